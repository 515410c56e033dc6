/**
 * `openlun token …`: API tokens for scripts and monitoring. A token acts with its user's role; read-only users
 * manage their own, admins everyone's. The secret is printed once, by create, and never stored by the appliance.
 */
import type { ApiToken, User } from '../../../api/src/store/types.ts';
import { HelpRequested, UsageError, parseCommand, parseInteger } from '../args.ts';
import { makeContext } from '../context.ts';
import { table } from '../output.ts';
import { findUser } from './users.ts';

export const TOKEN_USAGE = `usage: openlun token list
       openlun token create NAME [--user USERNAME]
       openlun token revoke ID

create prints the new token's secret once (store it now: the appliance keeps only its hash); scripts use it as
OPENLUN_TOKEN or an "Authorization: Bearer" header. The token acts with its user's role: --user (admins only)
makes one for another user, e.g. a read-only account for monitoring. Read-only users may create, list and revoke
their own tokens. revoke takes the ID from list; a revoked token stops working at once.`;

const when = (ms: number | null): string => (ms === null ? 'never' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));

export async function tokenCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const U = TOKEN_USAGE;
  switch (verb) {
    case 'list': {
      const { values } = parseCommand(U, rest, {});
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const [tokens, me] = await Promise.all([api.get<ApiToken[]>('/api/tokens'), api.get<{ user: User }>('/api/me')]);
      // only admins may read the user list; a read-only user's tokens are all their own
      const users = ctx.json ? [] : me.user.role === 'admin' ? await api.get<User[]>('/api/users') : [me.user];
      const name = new Map(users.map((u) => [u.id, u.username]));
      ctx.print(tokens, () =>
        tokens.length === 0
          ? 'no API tokens (openlun token create NAME)\n'
          : table(['ID', 'NAME', 'USER', 'CREATED', 'LAST USED'], tokens.map((t) => [String(t.id), t.name, name.get(t.userId) ?? String(t.userId), when(t.createdAt), when(t.lastUsed)])),
      );
      return 0;
    }
    case 'create': {
      const { values, positionals } = parseCommand(U, rest, { user: { type: 'string' } }, [1, 1]);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const me = (await api.get<{ user: User }>('/api/me')).user;
      const owner = values.user === undefined || values.user === me.username ? me : await findUser(api, values.user);
      const created = await api.call<{ token: ApiToken; secret: string }>('POST', '/api/tokens', { name: positionals[0]!, ...(owner.id !== me.id ? { userId: owner.id } : {}) });
      // the secret alone on stdout (TOKEN=$(openlun token create ci) works); what it is on stderr
      if (!ctx.json) process.stderr.write(`created token ${created.token.name} (id ${created.token.id}) for ${owner.username} (${owner.role}); its secret, shown only now:\n`);
      ctx.print(created, () => `${created.secret}\n`);
      return 0;
    }
    case 'revoke': {
      const { values, positionals } = parseCommand(U, rest, {}, [1, 1]);
      const id = parseInteger(positionals[0]!, 'ID', 1, Number.MAX_SAFE_INTEGER, U);
      const ctx = makeContext(values, U);
      await ctx.api().call('DELETE', `/api/tokens/${id}`);
      ctx.print({ revoked: id }, () => `token ${id} revoked\n`);
      return 0;
    }
    case undefined:
      throw new UsageError('missing token command', U);
    case '--help':
    case '-h':
    case 'help':
      throw new HelpRequested(U);
    default:
      throw new UsageError(`unknown token command "${verb}"`, U);
  }
}
