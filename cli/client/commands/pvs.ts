/** `openlun pv …`: physical volumes — a disk made ready for a volume group (pvcreate), or released again. */
import type { PvInfo } from '../../../lvm/src/report.ts';
import { HelpRequested, UsageError, parseCommand } from '../args.ts';
import { makeContext } from '../context.ts';
import { formatBytes, table } from '../output.ts';
import { confirmDestructive } from './confirm.ts';

export const PV_USAGE = `usage: openlun pv list
       openlun pv create DEVICE [--wipe] [--yes]
       openlun pv remove DEVICE

create makes DEVICE (e.g. /dev/sdb; openlun disk list shows the candidates) a physical volume. A disk that
carries a file system, partition table or other signature is refused unless --wipe, which erases them — at a
terminal you type the device to confirm; a script must add --yes. remove takes the label off a PV that belongs
to no volume group.`;

/** /dev/sdb → "%2Fdev%2Fsdb": the device is one path segment of the URL */
export const devicePath = (device: string): string => `/api/storage/pvs/${encodeURIComponent(device)}`;

export async function pvCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const U = PV_USAGE;
  switch (verb) {
    case 'list': {
      const { values } = parseCommand(U, rest, {});
      const ctx = makeContext(values, U);
      const pvs = await ctx.api().get<PvInfo[]>('/api/storage/pvs');
      ctx.print(pvs, () =>
        pvs.length === 0
          ? 'no physical volumes (openlun pv create DEVICE)\n'
          : table(['DEVICE', 'VG', 'SIZE', 'FREE', 'STATE'], pvs.map((p) => [p.name, p.vg ?? '-', formatBytes(p.size), formatBytes(p.free), p.missing ? 'MISSING' : p.allocatable ? 'ok' : 'not allocatable'])),
      );
      return 0;
    }
    case 'create': {
      const { values, positionals } = parseCommand(U, rest, { wipe: { type: 'boolean', default: false }, yes: { type: 'boolean', default: false } }, [1, 1]);
      const device = positionals[0]!;
      if (!device.startsWith('/dev/')) throw new UsageError(`DEVICE must be a /dev path (e.g. /dev/sdb), got "${device}"`, U);
      const ctx = makeContext(values, U);
      if (values.wipe) await confirmDestructive({ yes: values.yes, consequence: `pv create --wipe erases every file system, partition table and signature on ${device}`, typed: device });
      const pv = await ctx.api().call<PvInfo>('POST', '/api/storage/pvs', { device, ...(values.wipe ? { wipe: true } : {}) });
      ctx.print(pv, () => `${pv.name} is a physical volume (${formatBytes(pv.size)}); add it to a volume group: openlun vg create NAME ${pv.name}\n`);
      return 0;
    }
    case 'remove': {
      const { values, positionals } = parseCommand(U, rest, {}, [1, 1]);
      const device = positionals[0]!;
      const ctx = makeContext(values, U);
      await ctx.api().call('DELETE', devicePath(device));
      ctx.print({ removed: device }, () => `${device} is no longer a physical volume\n`);
      return 0;
    }
    case undefined:
      throw new UsageError('missing pv command', U);
    case '--help':
    case '-h':
    case 'help':
      throw new HelpRequested(U);
    default:
      throw new UsageError(`unknown pv command "${verb}"`, U);
  }
}
