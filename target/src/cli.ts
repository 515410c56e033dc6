/**
 * `openlun target …`: the standalone target, serving file- or block-device-backed LUNs until SIGINT/SIGTERM.
 * Also how tests and benchmarks start the data path (design.md: "the target runs without the API").
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { openBackstore } from './backstore/index.ts';
import { parseCommandArgs, untilStopSignal } from './command-args.ts';
import type { Backstore } from './backstore/index.ts';
import { IscsiServer } from './iscsi/server.ts';
import { formatPortal } from './iscsi/target-config.ts';
import type { ChapCredential, PortalEntry } from './iscsi/target-config.ts';
import { iscsiNameProblem, parsePortal } from './iscsi/names.ts';
import { createLogger } from './log.ts';
import type { LogLevel } from './log.ts';
import { ScsiTargetDevice } from './scsi/device.ts';
import type { LunEntry } from './scsi/types.ts';
import type { ConfigurableAccessState } from './scsi/alua.ts';
import { parseSoftThresholdPercent } from './scsi/provisioning-threshold.ts';

const USAGE = `usage: openlun target --portal ADDR[:PORT][,TPGT] [--portal [V6ADDR]:PORT[,TPGT] ...] --iqn IQN
         --lun PATH [--lun PATH ...] [--read-only] [--initiator IQN ...]
         [--chap USER:SECRET] [--mutual-chap USER:SECRET] [--discovery-chap USER:SECRET]
         [--alias NAME] [--block-size 512|4096] [--write-through] [--log-level debug|info|warn|error]
         [--state-dir DIR] [--non-optimized TPGT ...] [--standby TPGT ...] [--unavailable TPGT ...]
         [--soft-threshold PERCENT]

A portal's TPGT (default 1) is its portal group: the target is served through every group named, each group an
ALUA target port group whose relative target port id is the TPGT, active/optimized unless named by
--non-optimized (active/non-optimized: serves everything), --standby (serves INQUIRY, REPORT LUNS, REPORT TARGET PORT
GROUPS, MODE SENSE/SELECT, persistent reservations; anything else gets NOT READY 04h/0Bh) or --unavailable (INQUIRY,
REPORT LUNS, REPORT TARGET PORT GROUPS only; NOT READY 04h/0Ch). LUNs are numbered 0, 1, ... in the order given. Persistent reservations with APTPL are kept in
DIR/<lun id>.pr.json, or without --state-dir next to a file LUN as PATH.pr.json when that directory is writable.
CHAP secrets may also be given in the environment (OPENLUN_CHAP, OPENLUN_MUTUAL_CHAP, OPENLUN_DISCOVERY_CHAP) to keep
them out of the process list. SIGHUP re-reads the size of every backing store (a grown file or LV reaches the
initiators as CAPACITY DATA HAS CHANGED); SIGINT/SIGTERM ask initiators to log out and stop.
--soft-threshold PERCENT: a file LUN whose file system has less free space left than PERCENT of the LUN's size
(checked on writes, at most once a second) reports THIN PROVISIONING SOFT THRESHOLD REACHED (UNIT ATTENTION 38h/07h)
once to every initiator, again only after space has recovered; LV LUNs need their pool usage fed by the appliance.
Initiators read the level in the Logical Block Provisioning mode page (MODE SENSE page 1Ch subpage 02h).`;

class UsageError extends Error {}

/** RFC 7143 §13.9: a target portal group tag is 16 bits; 0 is refused because it would be relative target port 0,
 *  which SPC-4 §7.8.6.5 Table 482 reserves (alua.ts uses the TPGT as the relative target port identifier). */
function parsePortalGroupTag(text: string, where: string): number {
  const tag = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(tag) || tag < 1 || tag > 0xffff) throw new UsageError(`${where}: portal group tag "${text}" is not 1-65535`);
  return tag;
}

/** `ADDR[:PORT][,TPGT]`, the form SendTargets answers in (RFC 7143 §13.8 TargetAddress); TPGT defaults to 1. */
function parsePortalWithGroup(text: string): PortalEntry {
  const comma = text.lastIndexOf(',');
  const portalGroupTag = comma < 0 ? 1 : parsePortalGroupTag(text.slice(comma + 1), `--portal ${text}`);
  return { ...parsePortal(comma < 0 ? text : text.slice(0, comma)), portalGroupTag };
}

/** RFC 7143 §12.1.3 suggests CHAP secrets of at least 12 bytes; RFC 1994 needs them non-empty. */
function parseChap(flag: string, text: string | undefined): ChapCredential | undefined {
  if (text === undefined) return undefined;
  const i = text.indexOf(':');
  if (i <= 0 || i === text.length - 1) throw new UsageError(`${flag} wants USER:SECRET`);
  const user = text.slice(0, i);
  const secret = text.slice(i + 1);
  if (secret.length < 12 || secret.length > 255) {
    throw new UsageError(`${flag}: the secret must be 12 to 255 characters (RFC 7143 §12.1.3)`);
  }
  return { user, secret };
}

/** A LUN's identity must never change across restarts (interop.md): derive it from the target and the backing path. */
function stableLunId(iqn: string, path: string): string {
  return createHash('sha256').update(`${iqn.toLowerCase()}\0${path}`).digest('hex').slice(0, 32);
}

/**
 * Where a LUN's APTPL state lives (SPC-4 §5.13.5): in --state-dir when given, else next to a regular backing file
 * if its directory is writable; a block device without --state-dir gets none (PTPL_C = 0).
 */
async function prStatePathFor(backing: string, id: string, stateDir: string | undefined): Promise<string | undefined> {
  if (stateDir !== undefined) {
    await access(stateDir, fsConstants.W_OK).catch(() => {
      throw new UsageError(`--state-dir ${stateDir} is not a writable directory`);
    });
    return join(stateDir, `${id}.pr.json`);
  }
  if (!(await stat(backing)).isFile()) return undefined;
  try {
    await access(dirname(backing), fsConstants.W_OK);
    return `${backing}.pr.json`;
  } catch {
    return undefined;
  }
}

export async function runTargetCommand(argv: string[]): Promise<number> {
  const values = parseCommandArgs('target', USAGE, argv, {
    portal: { type: 'string', multiple: true },
    iqn: { type: 'string' },
    lun: { type: 'string', multiple: true },
    'read-only': { type: 'boolean', default: false },
    initiator: { type: 'string', multiple: true },
    chap: { type: 'string' },
    'mutual-chap': { type: 'string' },
    'discovery-chap': { type: 'string' },
    alias: { type: 'string' },
    'block-size': { type: 'string', default: '512' },
    'write-through': { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'info' },
    'state-dir': { type: 'string' },
    'non-optimized': { type: 'string', multiple: true },
    standby: { type: 'string', multiple: true },
    unavailable: { type: 'string', multiple: true },
    'soft-threshold': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (typeof values === 'number') return values;
  const log = createLogger(values['log-level'] as LogLevel);
  const backstores: Backstore[] = [];
  try {
    const iqn = values.iqn;
    if (!iqn) throw new UsageError('--iqn is required');
    const iqnProblem = iscsiNameProblem(iqn);
    if (iqnProblem) throw new UsageError(`--iqn ${iqn}: ${iqnProblem}`);
    for (const i of values.initiator ?? []) {
      const p = iscsiNameProblem(i);
      if (p) throw new UsageError(`--initiator ${i}: ${p}`);
    }
    if (!values.portal?.length) throw new UsageError('at least one --portal is required');
    if (!values.lun?.length) throw new UsageError('at least one --lun is required');
    if (values.lun.length > 16384) throw new UsageError('at most 16384 LUNs');
    const blockSize = Number(values['block-size']);
    if (blockSize !== 512 && blockSize !== 4096) throw new UsageError('--block-size must be 512 or 4096');
    if (!['debug', 'info', 'warn', 'error'].includes(values['log-level']!)) throw new UsageError('bad --log-level');
    const chap = parseChap('--chap', values.chap ?? process.env['OPENLUN_CHAP']);
    const mutualChap = parseChap('--mutual-chap', values['mutual-chap'] ?? process.env['OPENLUN_MUTUAL_CHAP']);
    const discoveryChap = parseChap('--discovery-chap', values['discovery-chap'] ?? process.env['OPENLUN_DISCOVERY_CHAP']);
    if (mutualChap && !chap) throw new UsageError('--mutual-chap needs --chap');
    if (mutualChap && chap && mutualChap.secret === chap.secret) {
      // RFC 7143 §12.1.3: the two directions must use different secrets
      throw new UsageError('--mutual-chap secret must differ from the --chap secret');
    }
    const portals: PortalEntry[] = values.portal.map((p) => {
      try {
        return parsePortalWithGroup(p);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    });
    const groupTags = [...new Set(portals.map((p) => p.portalGroupTag))];
    const portalGroupStates: Record<number, ConfigurableAccessState> = {};
    const stateFlags = [
      ['non-optimized', 'active/non-optimized'],
      ['standby', 'standby'],
      ['unavailable', 'unavailable'],
    ] as const satisfies ReadonlyArray<readonly [string, ConfigurableAccessState]>;
    for (const [flag, state] of stateFlags) {
      for (const text of values[flag] ?? []) {
        const tag = parsePortalGroupTag(text, `--${flag} ${text}`);
        if (!groupTags.includes(tag)) throw new UsageError(`--${flag} ${text}: no --portal is in portal group ${tag}`);
        const already = portalGroupStates[tag];
        if (already !== undefined && already !== state) throw new UsageError(`--${flag} ${text}: portal group ${tag} is already ${already}`);
        portalGroupStates[tag] = state;
      }
    }

    let softThresholdPercent: number | undefined;
    if (values['soft-threshold'] !== undefined) {
      try {
        softThresholdPercent = parseSoftThresholdPercent(values['soft-threshold']);
      } catch (err) {
        throw new UsageError(`--soft-threshold: ${(err as Error).message}`);
      }
    }

    const luns = new Map<number, LunEntry>();
    for (const [n, path] of values.lun.entries()) {
      const backstore = await openBackstore(path, {
        readOnly: values['read-only'] ?? false,
        writeThrough: values['write-through'] ?? false,
      });
      backstores.push(backstore);
      const real = await realpath(path);
      const id = stableLunId(iqn, real);
      const prStatePath = await prStatePathFor(real, id, values['state-dir']);
      luns.set(n, {
        ...(prStatePath ? { prStatePath } : {}),
        ...(softThresholdPercent !== undefined ? { softThresholdPercent } : {}),
        id,
        serial: id.slice(0, 16),
        readOnly: values['read-only'] ?? false,
        blockSize: blockSize as 512 | 4096,
        writeCache: values['write-through'] ? 'through' : 'back',
        backstore,
      });
    }
    const device = new ScsiTargetDevice({ targetName: iqn, luns });
    const server = new IscsiServer({
      portals,
      targets: [
        {
          name: iqn,
          ...(values.alias ? { alias: values.alias } : {}),
          portalGroupTag: groupTags[0]!,
          ...(groupTags.length > 1 ? { extraPortalGroupTags: groupTags.slice(1) } : {}),
          ...(Object.keys(portalGroupStates).length > 0 ? { portalGroupStates } : {}),
          device,
          allowedInitiators: values.initiator ?? [],
          ...(chap ? { chap } : {}),
          ...(mutualChap ? { mutualChap } : {}),
        },
      ],
      log,
      ...(discoveryChap ? { discoveryChap } : {}),
    });
    const bound = await server.listen();
    for (const b of bound) process.stdout.write(`listening on ${formatPortal(b.host, b.port)}\n`);
    log.info(`serving ${iqn} with ${luns.size} LUN(s)${chap ? ' (CHAP required)' : ''}`);

    // SIGHUP re-reads every backing store's size: a grown file or LV reaches initiators as CAPACITY DATA HAS
    // CHANGED (SBC-4 §4.6) on every I_T nexus, without a session dropping
    const onHup = (): void => {
      void (async () => {
        for (const n of device.lunNumbers()) {
          const before = device.logicalUnit(n)!.backstore.size();
          const after = await device.refreshCapacity(n);
          if (after !== before) log.info(`LUN ${n}: capacity ${before} -> ${after} bytes`);
        }
      })().catch((err: unknown) => log.error(`capacity refresh failed: ${(err as Error).message}`));
    };
    process.on('SIGHUP', onHup);
    await untilStopSignal(log);
    process.off('SIGHUP', onHup);
    await server.close(1000);
    return 0;
  } catch (err) {
    for (const b of backstores) await b.close().catch(() => undefined);
    if (err instanceof UsageError) {
      process.stderr.write(`openlun target: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`openlun target: ${(err as Error).message}\n`);
    return 1;
  }
}

/** The target's own commands; `openlun serve` lives with the API (cli/openlun.ts dispatches). */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'target') return runTargetCommand(rest);
  // loaded on demand: `openlun target` stays small
  if (cmd === 'targetd') return (await import('./daemon/targetd.ts')).runTargetdCommand(rest);
  process.stderr.write(`usage: openlun target|targetd --help\n`);
  return cmd === undefined || cmd === '--help' || cmd === '-h' ? 0 : 2;
}
