/**
 * `openlun chap …`: CHAP credentials per target and for discovery (RFC 7143 §12.1.3). Secrets come from standard
 * input or a file — never argv, which every user on the machine can read in the process list — and the API never
 * returns them, so nothing here can print one.
 */
import type { ChapInfo, Target } from '../../../api/src/store/types.ts';
import { HelpRequested, UsageError, parseCommand } from '../args.ts';
import { makeContext } from '../context.ts';
import { findTarget } from '../lookup.ts';
import { secretFromFile, secretFromStdin } from '../prompt.ts';
import { table } from '../output.ts';

export const CHAP_USAGE = `usage: openlun chap list
       openlun chap set IQN --user NAME (--secret-stdin | --secret-file FILE)
                        [--mutual-user NAME (--mutual-secret-stdin | --mutual-secret-file FILE)]
       openlun chap clear IQN
       openlun chap discovery set --user NAME (--secret-stdin | --secret-file FILE) [--mutual-user ...]
       openlun chap discovery clear

The initiator must answer CHAP with NAME and the secret to log in (one-way); with --mutual-user the target proves
itself to the initiator too (mutual). Secrets are 12-255 printable characters (RFC 7143 §12.1.3) and are read
from the first line of FILE or of standard input (when both secrets come from standard input: the secret on
line 1, the mutual secret on line 2). They are stored encrypted and never shown again.`;

const CHAP_OPTIONS = {
  user: { type: 'string' },
  'secret-stdin': { type: 'boolean', default: false },
  'secret-file': { type: 'string' },
  'mutual-user': { type: 'string' },
  'mutual-secret-stdin': { type: 'boolean', default: false },
  'mutual-secret-file': { type: 'string' },
} as const;

interface ChapValues {
  user?: string | undefined;
  'secret-stdin'?: boolean | undefined;
  'secret-file'?: string | undefined;
  'mutual-user'?: string | undefined;
  'mutual-secret-stdin'?: boolean | undefined;
  'mutual-secret-file'?: string | undefined;
}

/** Checks the option combination before anything is read, then reads the secrets. */
async function chapBody(v: ChapValues): Promise<Record<string, string>> {
  const U = CHAP_USAGE;
  if (!v.user) throw new UsageError('--user NAME is required', U);
  if (!!v['secret-stdin'] === !!v['secret-file']) throw new UsageError('give the secret with exactly one of --secret-stdin or --secret-file FILE', U);
  const mutualSecretGiven = !!v['mutual-secret-stdin'] || !!v['mutual-secret-file'];
  if (v['mutual-secret-stdin'] && v['mutual-secret-file']) throw new UsageError('give either --mutual-secret-stdin or --mutual-secret-file', U);
  if (!!v['mutual-user'] !== mutualSecretGiven) throw new UsageError('mutual CHAP needs both --mutual-user and a mutual secret', U);
  const secret = v['secret-stdin'] ? await secretFromStdin(0, 'the CHAP secret') : secretFromFile(v['secret-file']!, 'the CHAP secret');
  let mutual: Record<string, string> = {};
  if (v['mutual-user']) {
    const line = v['secret-stdin'] ? 1 : 0;
    const mutualSecret = v['mutual-secret-stdin'] ? await secretFromStdin(line, 'the mutual CHAP secret') : secretFromFile(v['mutual-secret-file']!, 'the mutual CHAP secret');
    mutual = { mutualUsername: v['mutual-user'], mutualSecret };
  }
  return { username: v.user, secret, ...mutual };
}

const describe = (c: ChapInfo): string => `user ${c.username}${c.mutualUsername ? `, mutual user ${c.mutualUsername}` : ''}`;

export async function chapCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const U = CHAP_USAGE;
  switch (verb) {
    case 'list': {
      const { values } = parseCommand(U, rest, {});
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const [chap, targets] = await Promise.all([api.get<ChapInfo[]>('/api/chap'), api.get<Target[]>('/api/targets')]);
      ctx.print(chap, () =>
        chap.length === 0
          ? 'no CHAP credentials\n'
          : table(
              ['FOR', 'USER', 'MUTUAL USER'],
              chap.map((c) => [c.targetId === null ? '(discovery)' : (targets.find((t) => t.id === c.targetId)?.iqn ?? String(c.targetId)), c.username, c.mutualUsername ?? '-']),
            ),
      );
      return 0;
    }
    case 'set': {
      const { values, positionals } = parseCommand(U, rest, CHAP_OPTIONS, [1, 1]);
      const body = await chapBody(values);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const target = await findTarget(api, positionals[0]!);
      const c = await api.call<ChapInfo>('PUT', `/api/chap/targets/${target.id}`, body);
      ctx.print(c, () => `${target.iqn} now requires CHAP (${describe(c)})\n`);
      return 0;
    }
    case 'clear': {
      const { values, positionals } = parseCommand(U, rest, {}, [1, 1]);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const target = await findTarget(api, positionals[0]!);
      await api.call('DELETE', `/api/chap/targets/${target.id}`);
      ctx.print({ deleted: { targetId: target.id } }, () => `${target.iqn} no longer requires CHAP\n`);
      return 0;
    }
    case 'discovery': {
      const [op, ...args] = rest;
      if (op === 'set') {
        const { values } = parseCommand(U, args, CHAP_OPTIONS, [0, 0]);
        const body = await chapBody(values);
        const ctx = makeContext(values, U);
        const c = await ctx.api().call<ChapInfo>('PUT', '/api/chap/discovery', body);
        ctx.print(c, () => `discovery now requires CHAP (${describe(c)})\n`);
        return 0;
      }
      if (op === 'clear') {
        const { values } = parseCommand(U, args, {}, [0, 0]);
        const ctx = makeContext(values, U);
        await ctx.api().call('DELETE', '/api/chap/discovery');
        ctx.print({ deleted: { targetId: null } }, () => 'discovery no longer requires CHAP\n');
        return 0;
      }
      if (op === '--help' || op === '-h') throw new HelpRequested(U);
      throw new UsageError(op === undefined ? 'chap discovery wants set or clear' : `unknown chap discovery command "${op}"`, U);
    }
    case undefined:
      throw new UsageError('missing chap command', U);
    case '--help':
    case '-h':
    case 'help':
      throw new HelpRequested(U);
    default:
      throw new UsageError(`unknown chap command "${verb}"`, U);
  }
}
