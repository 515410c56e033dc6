/**
 * `openlun config export|plan|apply`: the whole desired state as one JSON document (config as code). plan shows
 * what an import would change; apply carries it out in one transaction and shows what it did.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Settings } from '../../../api/src/store/types.ts';
import { CliError, HelpRequested, UsageError, parseCommand } from '../args.ts';
import { makeContext } from '../context.ts';
import { json } from '../output.ts';
import { askHidden, readStdin, secretFromStdin } from '../prompt.ts';

export const CONFIG_USAGE = `usage: openlun config export [--secrets [--password-stdin]] [--output FILE]
       openlun config plan FILE
       openlun config apply FILE

export prints the configuration document (JSON; with --output written to FILE, mode 0600). CHAP secrets are left
out unless --secrets, which asks for your password again (on the terminal, or the first line of standard input
with --password-stdin). plan shows the changes importing FILE would make; apply makes them (admin). FILE "-" is
standard input. Objects are matched by name (LUN name, group name, target IQN), so a document moves between
appliances.`;

interface Plan {
  changes: Array<{ op: string; kind: string; key: string; fields?: Array<{ field: string; from: unknown; to: unknown }> }>;
  refused: Array<{ key: string; message: string }>;
  summary: { create: number; update: number; delete: number };
}

async function readDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`);
  }
}

const SIGN: Record<string, string> = { create: '+', update: '~', delete: '-' };
const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function planText(p: Plan, done: boolean): string {
  let s = '';
  for (const c of p.changes) {
    s += `${SIGN[c.op] ?? c.op} ${c.kind} ${c.key}\n`;
    for (const f of c.fields ?? []) s += `    ${f.field}: ${show(f.from)} → ${show(f.to)}\n`;
  }
  for (const r of p.refused) s += `! ${r.key}: ${r.message}\n`;
  const { create, update, delete: del } = p.summary;
  if (create + update + del === 0 && p.refused.length === 0) return done ? 'nothing changed: the appliance already matches\n' : 'no changes: the appliance already matches\n';
  return s + `${done ? 'applied' : 'plan'}: ${create} to create, ${update} to update, ${del} to delete${p.refused.length ? `, ${p.refused.length} refused` : ''}\n`;
}

export async function configCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const U = CONFIG_USAGE;
  switch (verb) {
    case 'export': {
      const { values } = parseCommand(U, rest, { secrets: { type: 'boolean', default: false }, 'password-stdin': { type: 'boolean', default: false }, output: { type: 'string' } });
      if (values['password-stdin'] && !values.secrets) throw new UsageError('--password-stdin goes with --secrets', U);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      let doc: { settings?: Settings };
      if (values.secrets) {
        const password = values['password-stdin'] ? await secretFromStdin(0, 'password') : await askHidden('Your password (to export secrets): ');
        doc = await api.call('POST', '/api/config/export', { password });
      } else {
        doc = await api.get('/api/config');
      }
      if (values.output) {
        try {
          writeFileSync(values.output, json(doc), { mode: values.secrets ? 0o600 : 0o644 });
        } catch (err) {
          throw new CliError(`cannot write ${values.output}: ${(err as Error).message}`);
        }
        process.stderr.write(`configuration${values.secrets ? ' with secrets' : ''} written to ${values.output}\n`);
      } else {
        ctx.out(json(doc));
      }
      return 0;
    }
    case 'plan':
    case 'apply': {
      const { values, positionals } = parseCommand(U, rest, {}, [1, 1]);
      const doc = await readDocument(positionals[0]!);
      const ctx = makeContext(values, U);
      const plan = await ctx.api().call<Plan>('POST', `/api/config/${verb}`, doc);
      ctx.print(plan, () => planText(plan, verb === 'apply'));
      return 0;
    }
    case undefined:
      throw new UsageError('missing config command', U);
    case '--help':
    case '-h':
    case 'help':
      throw new HelpRequested(U);
    default:
      throw new UsageError(`unknown config command "${verb}"`, U);
  }
}
