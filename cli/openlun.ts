#!/usr/bin/env node
/**
 * `openlun …`: one program for the appliance's processes. The data path (target, targetd) and the management
 * plane (serve) stay separate modules — target/ imports nothing from api/ (design.md) — and meet only here.
 */
import { main as targetMain } from '../target/src/cli.ts';
import { CLIENT_COMMAND_NAMES, TARGET_CLIENT_VERBS } from './client/verbs.ts';

const USAGE = `usage: openlun <command> [options]
The appliance's processes:
  serve     the management API and web UI, driving targetd (see: openlun serve --help)
  targetd   the target daemon: desired state + control socket (see: openlun targetd --help)
  target    serve LUNs from the command line: openlun target --portal ... --iqn ... --lun PATH
The appliance through its API (add --json for scripts; see: openlun help COMMAND):
  login     sign in, store an API token and the pinned server certificate (logout: revoke it)
  lun       list|show|create|resize|set|delete LUNs
  target    list|show|create|delete|map|unmap|portal: targets, their LUNs and portals
  acl       list|allow|deny: which initiators may log in to a target
  chap      list|set|clear|discovery: CHAP credentials
  pool      show: the storage overview; list|create|extend: thin pools
  disk      list: the disks and which may become storage
  pv        list|create|remove: physical volumes
  vg        list|create|extend|reduce|rename|remove: volume groups
  snapshot  list|create|rollback|clone|delete: snapshots of a LUN
  schedule  list|create|delete: snapshots on a timer, with retention
  session   list|end: iSCSI sessions logged in now
  config    export|plan|apply: the whole configuration as a JSON document
  user      list|create|passwd|delete: accounts
  token     list|create|revoke: API tokens for scripts and monitoring`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'serve') {
    // how this very program is started again (node flags included) so serve can spawn targetd
    const self = [process.execPath, ...process.execArgv, process.argv[1]!];
    return (await import('../api/src/serve.ts')).runServeCommand(rest, self);
  }
  if (cmd === 'target' && TARGET_CLIENT_VERBS.has(rest[0] ?? '')) return (await import('./client/main.ts')).runClient('target', rest);
  if (cmd === 'target' && rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h')) {
    // both faces of `openlun target`: the standalone target's options, then the API client's verbs
    const code = await targetMain(argv);
    const client = await import('./client/main.ts');
    process.stdout.write(`\nWith a verb first, openlun target manages the appliance's targets through its API:\n${client.TARGET_CLIENT_USAGE}\n`);
    return code;
  }
  if (cmd === 'target' || cmd === 'targetd') return targetMain(argv);
  if (cmd !== undefined && CLIENT_COMMAND_NAMES.has(cmd)) return (await import('./client/main.ts')).runClient(cmd, rest);
  if (cmd === 'help' && rest[0] !== undefined) {
    if (rest[0] === 'target' || rest[0] === 'targetd' || rest[0] === 'serve') return main([rest[0], '--help']);
    const usage = (await import('./client/main.ts')).clientUsage(rest[0]);
    if (usage) {
      process.stdout.write(usage + '\n');
      return 0;
    }
    process.stderr.write(`openlun help: no command "${rest[0]}"\n${USAGE}\n`);
    return 2;
  }
  if (cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (cmd !== undefined) process.stderr.write(`openlun: unknown command "${cmd}"\n`);
  process.stderr.write(USAGE + '\n');
  return cmd === undefined ? 0 : 2;
}

process.exitCode = await main(process.argv.slice(2));
