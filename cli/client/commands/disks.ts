/** `openlun disk list`: the block devices the appliance sees and whether each may become storage. */
import type { DiskInfo } from '../../../lvm/src/disks.ts';
import { HelpRequested, UsageError, parseCommand } from '../args.ts';
import { makeContext } from '../context.ts';
import { formatBytes, table } from '../output.ts';

export const DISK_USAGE = `usage: openlun disk list [--smart]

Every disk with its size, model, serial and transport, and its state: "available" (free to become a physical
volume: openlun pv create DEVICE), "pv" (already one), "system" (the disk the appliance runs from, never offered)
or "in use" with the reason (partitions, file systems, mounts, device-mapper holders; --json has them all).
--smart asks each disk's SMART health and temperature (slower: smartctl runs per disk). In file-pool mode the
list is empty.`;

function state(d: DiskInfo): string {
  if (d.system) return 'system';
  if (d.isPv) return 'pv';
  if (d.available) return d.signatures.length ? `available (has ${d.signatures.join(', ')}: pv create --wipe)` : 'available';
  return `in use: ${d.inUse.join('; ') || 'yes'}`;
}

function smart(d: DiskInfo): string {
  if (!d.smart) return 'unknown';
  const health = d.smart.passed === null ? 'unknown' : d.smart.passed ? 'passed' : 'FAILED';
  return d.smart.temperatureC === null ? health : `${health} ${d.smart.temperatureC}°C`;
}

export async function diskCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'list': {
      const { values } = parseCommand(DISK_USAGE, rest, { smart: { type: 'boolean', default: false } });
      const ctx = makeContext(values, DISK_USAGE);
      const disks = await ctx.api().get<DiskInfo[]>(`/api/storage/disks${values.smart ? '?smart=true' : ''}`);
      ctx.print(disks, () =>
        disks.length === 0
          ? 'no disks (the appliance stores LUNs in its file pool; see openlun pool show)\n'
          : table(
              ['DEVICE', 'SIZE', 'MODEL', 'SERIAL', 'TRANSPORT', 'TYPE', ...(values.smart ? ['SMART'] : []), 'STATE'],
              disks.map((d) => [
                d.path, formatBytes(d.size), d.model ?? '-', d.serial ?? '-', d.transport ?? '-', d.rotational ? 'HDD' : 'SSD',
                ...(values.smart ? [smart(d)] : []), state(d),
              ]),
            ),
      );
      return 0;
    }
    case undefined:
      throw new UsageError('missing disk command', DISK_USAGE);
    case '--help':
    case '-h':
    case 'help':
      throw new HelpRequested(DISK_USAGE);
    default:
      throw new UsageError(`unknown disk command "${verb}"`, DISK_USAGE);
  }
}
