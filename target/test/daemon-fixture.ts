// Desired states for the daemon tests: sparse files in a temp dir, one target on 127.0.0.1.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { DesiredBackstore, DesiredState, DesiredTarget } from '../src/daemon/state.ts';

export const TARGET = 'iqn.2026-11.org.openlun:daemon';
export const ALLOWED = 'iqn.1994-05.com.example:tester';
export const STRANGER = 'iqn.1994-05.com.example:stranger';

export async function sparseFile(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'w');
  await fh.truncate(bytes);
  await fh.close();
}

export async function backstore(dir: string, name: string, n: number, bytes = 1024 * 1024): Promise<DesiredBackstore> {
  const path = join(dir, `${name}.img`);
  await sparseFile(path, bytes);
  const hex = n.toString(16).padStart(2, '0');
  return { name, kind: 'file', path, sizeBytes: bytes, blockSize: 512, readOnly: false, writeBack: true, serial: `00000000000000${hex}`, naaId: `30000000000000${hex}` };
}

export function stateWith(port: number, backstores: DesiredBackstore[], target: Partial<DesiredTarget> = {}): DesiredState {
  return {
    version: 1,
    hostname: 'test',
    listen: [{ host: '127.0.0.1', port }],
    backstores,
    targets: [
      {
        name: TARGET,
        portalGroupTag: 1,
        portals: [{ host: '127.0.0.1', port }],
        luns: backstores.map((b, i) => ({ lun: i, backstore: b.name })),
        acl: [{ group: 'testers', initiators: [ALLOWED], networks: [] }],
        ...target,
      },
    ],
    warnings: [],
  };
}
