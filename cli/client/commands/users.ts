/** `openlun user …`: the appliance's accounts (admin only; passwords from stdin or the terminal, never argv). */
import type { Role, User } from '../../../api/src/store/types.ts';
import type { Api } from '../api.ts';
import { CliError, HelpRequested, UsageError, parseCommand } from '../args.ts';
import { makeContext } from '../context.ts';
import { table } from '../output.ts';
import { askHidden, hasTerminal, secretFromStdin } from '../prompt.ts';

export const USER_USAGE = `usage: openlun user list
       openlun user create NAME --role admin|read-only [--password-stdin]
       openlun user passwd NAME [--password-stdin]
       openlun user delete NAME

Admins manage accounts; read-only users may look at everything and change nothing (they may manage their own
API tokens: openlun token). The password is asked twice on the terminal without echo, or read from the first
line of standard input with --password-stdin (at least 10 characters); it never goes on the command line.
delete signs the user out everywhere and revokes their tokens; you cannot delete your own account.`;

const ROLES: readonly Role[] = ['admin', 'read-only'];

export async function findUser(api: Api, name: string): Promise<User> {
  const u = (await api.get<User[]>('/api/users')).find((x) => x.username === name);
  if (!u) throw new CliError(`no user named ${name} (openlun user list shows the users)`);
  return u;
}

async function newPassword(fromStdin: boolean | undefined, username: string): Promise<string> {
  if (fromStdin) return secretFromStdin(0, 'password');
  if (!hasTerminal()) throw new CliError('no terminal to ask for the password on; use --password-stdin');
  const first = await askHidden(`New password for ${username}: `);
  const again = await askHidden('Once more: ');
  if (first !== again) throw new CliError('the two passwords differ; nothing was changed');
  return first;
}

export async function userCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const U = USER_USAGE;
  switch (verb) {
    case 'list': {
      const { values } = parseCommand(U, rest, {});
      const ctx = makeContext(values, U);
      const users = await ctx.api().get<User[]>('/api/users');
      ctx.print(users, () => table(['ID', 'NAME', 'ROLE', 'CREATED'], users.map((u) => [String(u.id), u.username, u.role, new Date(u.createdAt).toISOString().slice(0, 10)])));
      return 0;
    }
    case 'create': {
      const { values, positionals } = parseCommand(U, rest, { role: { type: 'string' }, 'password-stdin': { type: 'boolean', default: false } }, [1, 1]);
      const role = values.role as Role | undefined;
      if (role === undefined) throw new UsageError('--role admin|read-only is required', U);
      if (!ROLES.includes(role)) throw new UsageError(`--role must be admin or read-only, got "${values.role}"`, U);
      const username = positionals[0]!;
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const password = await newPassword(values['password-stdin'], username);
      const user = await api.call<User>('POST', '/api/users', { username, role, password });
      ctx.print(user, () => `created ${user.role} user ${user.username} (id ${user.id})\n`);
      return 0;
    }
    case 'passwd': {
      const { values, positionals } = parseCommand(U, rest, { 'password-stdin': { type: 'boolean', default: false } }, [1, 1]);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const user = await findUser(api, positionals[0]!);
      const password = await newPassword(values['password-stdin'], user.username);
      await api.call('PUT', `/api/users/${user.id}/password`, { password });
      ctx.print({ passwordChanged: user.username }, () => `password of ${user.username} changed\n`);
      return 0;
    }
    case 'delete': {
      const { values, positionals } = parseCommand(U, rest, {}, [1, 1]);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const user = await findUser(api, positionals[0]!);
      await api.call('DELETE', `/api/users/${user.id}`);
      ctx.print({ deleted: user }, () => `deleted user ${user.username}\n`);
      return 0;
    }
    case undefined:
      throw new UsageError('missing user command', U);
    case '--help':
    case '-h':
    case 'help':
      throw new HelpRequested(U);
    default:
      throw new UsageError(`unknown user command "${verb}"`, U);
  }
}
