#!/usr/bin/env node
/**
 * `openlun …`: one program for the appliance's processes. The data path (target, targetd) and the management
 * plane (serve) stay separate modules — target/ imports nothing from api/ (design.md) — and meet only here.
 */
import { main as targetMain } from '../target/src/cli.ts';

const USAGE = `usage: openlun <command> [options]
  target    serve LUNs from the command line (see: openlun target --help)
  targetd   the target daemon: desired state + control socket (see: openlun targetd --help)
  serve     the management API and web UI, driving targetd (see: openlun serve --help)`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'serve') {
    // how this very program is started again (node flags included) so serve can spawn targetd
    const self = [process.execPath, ...process.execArgv, process.argv[1]!];
    return (await import('../api/src/serve.ts')).runServeCommand(rest, self);
  }
  if (cmd === 'target' || cmd === 'targetd') return targetMain(argv);
  process.stderr.write(USAGE + '\n');
  return cmd === undefined || cmd === '--help' || cmd === '-h' ? 0 : 2;
}

process.exitCode = await main(process.argv.slice(2));
