/**
 * Request-level checks of LVM names and device paths, every bad field at once (as the store's own checks), run
 * before any lvm2 command: lvm/src/names.ts is the rule, this only collects its refusals per field.
 */
import { devicePath, lvName, vgName } from '../../../lvm/src/names.ts';
import { Problems } from '../store/errors.ts';

type Kind = 'VG' | 'LV' | 'device';
const RULE = { VG: vgName, LV: lvName, device: devicePath } as const satisfies Record<Kind, (v: unknown) => string>;

/** checkNames({ name: ['VG', 'vg0'], 'devices/0': ['device', '/dev/sdb'] }) */
export function checkNames(fields: Record<string, [Kind, unknown] | undefined>): void {
  const p = new Problems();
  for (const [field, spec] of Object.entries(fields)) {
    if (!spec || spec[1] === undefined) continue;
    try {
      RULE[spec[0]](spec[1]);
    } catch (e) {
      p.check(field, `is refused: ${(e as Error).message}`);
    }
  }
  p.throwIfAny();
}

export function deviceFields(prefix: string, devices: readonly string[] | undefined): Record<string, [Kind, unknown]> {
  return Object.fromEntries((devices ?? []).map((d, i) => [`${prefix}/${i}`, ['device', d] as [Kind, unknown]]));
}
