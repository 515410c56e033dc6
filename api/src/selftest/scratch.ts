/**
 * The self-test's scratch objects: a small sparse file LUN mapped as LUN 0 of a target that listens on one loopback
 * portal and admits only the self-test's two initiator names from loopback addresses. They are ordinary store
 * objects (so the target daemon serves them like any other, through the same reconcile) with names that say what
 * they are; `removeScratch` takes away whatever of them exists, so a run interrupted by a crash is cleaned up by
 * the next one.
 */
import { createServer } from 'node:net';
import type { Store } from '../store/store.ts';
import type { ChangeContext } from '../store/types.ts';

export const SCRATCH_NAME = 'openlun-selftest';
export const SCRATCH_TARGET_SUFFIX = ':openlun-selftest';
// iscsi-test-cu logs in with two names (-i, -I: reservation tests need a second I_T nexus)
export const SELFTEST_INITIATORS = ['iqn.2026-11.org.openlun:selftest-initiator-1', 'iqn.2026-11.org.openlun:selftest-initiator-2'] as const;
// big enough for every family's LBA ranges (the conformance suite's own LUN is 256 MiB; 64 MiB passes the subset)
export const SCRATCH_BYTES = 64 * 1024 * 1024;
export const SCRATCH_HOST = '127.0.0.1';

export interface Scratch {
  targetIqn: string;
  port: number;
  url: string;
}

/** A port no one listens on now, on the loopback address (the kernel picks it from the ephemeral range). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: SCRATCH_HOST, port: 0, exclusive: true }, () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Is this target/LUN/group one of the self-test's? (the UI labels them) */
export function isScratchName(name: string): boolean {
  return name === SCRATCH_NAME || name.endsWith(SCRATCH_TARGET_SUFFIX);
}

/** Removes every scratch object that exists; returns what it removed. Never touches anything else. */
export function removeScratch(store: Store, ctx: ChangeContext): string[] {
  const removed: string[] = [];
  for (const t of store.listTargets().filter((t) => t.iqn.endsWith(SCRATCH_TARGET_SUFFIX))) {
    // deleting the target takes its portals, mappings and ACL entries with it
    store.deleteTarget(ctx, t.id);
    removed.push(`target ${t.iqn}`);
  }
  for (const g of store.listInitiatorGroups().filter((g) => g.name === SCRATCH_NAME)) {
    store.deleteInitiatorGroup(ctx, g.id, { force: true });
    removed.push(`initiator group ${g.name}`);
  }
  for (const l of store.listLuns().filter((l) => l.name === SCRATCH_NAME && l.backing === 'file')) {
    store.deleteLun(ctx, l.id, { force: true, deleteData: true });
    removed.push(`LUN ${l.name}`);
  }
  return removed;
}

/** Creates the scratch LUN, target, portal, initiator group and ACL in one transaction. */
export function createScratch(store: Store, ctx: ChangeContext, port: number): Scratch {
  const targetIqn = `${store.getSettings().baseIqn}${SCRATCH_TARGET_SUFFIX}`;
  store.atomically(() => {
    // write-back: scratch data needs no O_DSYNC, and the write families ran ~3x faster without it
    const lun = store.createLun(ctx, { name: SCRATCH_NAME, backing: 'file', sizeBytes: SCRATCH_BYTES, blockSize: 512, writeCache: 'write-back' });
    const target = store.createTarget(ctx, targetIqn, 'openlun self-test - removed when the run ends');
    store.createPortal(ctx, target.id, SCRATCH_HOST, port);
    store.createMapping(ctx, target.id, 0, lun.id);
    const group = store.createInitiatorGroup(ctx, { name: SCRATCH_NAME, initiators: [...SELFTEST_INITIATORS], networks: ['127.0.0.0/8'] });
    store.createAcl(ctx, target.id, group.id);
  });
  return { targetIqn, port, url: `iscsi://${SCRATCH_HOST}:${port}/${targetIqn}/0` };
}
