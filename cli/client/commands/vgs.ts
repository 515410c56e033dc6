/** `openlun vg …`: volume groups — the disks pooled into one space that LUNs' LVs and thin pools are cut from. */
import type { VgInfo } from '../../../lvm/src/report.ts';
import { HelpRequested, UsageError, parseCommand } from '../args.ts';
import { makeContext } from '../context.ts';
import { formatBytes, table } from '../output.ts';
import { confirmDestructive } from './confirm.ts';

export const VG_USAGE = `usage: openlun vg list
       openlun vg create NAME DEVICE...
       openlun vg extend NAME DEVICE...
       openlun vg reduce NAME DEVICE...
       openlun vg rename OLD NEW
       openlun vg remove NAME [--yes]

create pools the devices — physical volumes, made with openlun pv create — into volume group NAME; extend adds
PVs, reduce takes unused ones out (lvm2 refuses a PV that still holds data). rename is refused while the VG
holds LUNs (their device paths name it). remove deletes the VG — refused while it holds LUNs or other LVs; at a
terminal you type its name to confirm, a script adds --yes.`;

type Vg = VgInfo & { luns: string[] };

export async function vgCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const U = VG_USAGE;
  switch (verb) {
    case 'list': {
      const { values } = parseCommand(U, rest, {});
      const ctx = makeContext(values, U);
      const vgs = await ctx.api().get<Vg[]>('/api/storage/vgs');
      ctx.print(vgs, () =>
        vgs.length === 0
          ? 'no volume groups (openlun vg create NAME DEVICE...)\n'
          : table(
              ['NAME', 'SIZE', 'FREE', 'PVS', 'LVS', 'STATE', 'LUNS'],
              vgs.map((v) => [v.name, formatBytes(v.size), formatBytes(v.free), String(v.pvCount), String(v.lvCount), v.partial || v.missingPvCount ? `PARTIAL (${v.missingPvCount} PV missing)` : 'ok', v.luns.join(' ') || '-']),
            ),
      );
      return 0;
    }
    case 'create': {
      const { values, positionals } = parseCommand(U, rest, {}, [2, 64 + 1]);
      const [name, ...devices] = positionals;
      const ctx = makeContext(values, U);
      const vg = await ctx.api().call<Vg>('POST', '/api/storage/vgs', { name, devices });
      ctx.print(vg, () => `created volume group ${vg.name}: ${formatBytes(vg.size)} on ${devices.join(' ')}\n`);
      return 0;
    }
    case 'extend':
    case 'reduce': {
      const { values, positionals } = parseCommand(U, rest, {}, [2, 64 + 1]);
      const [name, ...devices] = positionals;
      const ctx = makeContext(values, U);
      const vg = await ctx.api().call<Vg>('PATCH', `/api/storage/vgs/${encodeURIComponent(name!)}`, verb === 'extend' ? { addDevices: devices } : { removeDevices: devices });
      ctx.print(vg, () => `volume group ${vg.name}: ${verb === 'extend' ? 'added' : 'removed'} ${devices.join(' ')}; now ${formatBytes(vg.size)}, ${formatBytes(vg.free)} free\n`);
      return 0;
    }
    case 'rename': {
      const { values, positionals } = parseCommand(U, rest, {}, [2, 2]);
      const [from, to] = positionals;
      const ctx = makeContext(values, U);
      const vg = await ctx.api().call<Vg>('PATCH', `/api/storage/vgs/${encodeURIComponent(from!)}`, { newName: to });
      ctx.print(vg, () => `volume group ${from} is now ${vg.name}\n`);
      return 0;
    }
    case 'remove': {
      const { values, positionals } = parseCommand(U, rest, { yes: { type: 'boolean', default: false } }, [1, 1]);
      const name = positionals[0]!;
      const ctx = makeContext(values, U);
      await confirmDestructive({ yes: values.yes, consequence: `vg remove deletes volume group ${name} (its disks stay physical volumes)`, typed: name });
      await ctx.api().call('DELETE', `/api/storage/vgs/${encodeURIComponent(name)}`);
      ctx.print({ removed: name }, () => `removed volume group ${name}\n`);
      return 0;
    }
    case undefined:
      throw new UsageError('missing vg command', U);
    case '--help':
    case '-h':
    case 'help':
      throw new HelpRequested(U);
    default:
      throw new UsageError(`unknown vg command "${verb}"`, U);
  }
}
