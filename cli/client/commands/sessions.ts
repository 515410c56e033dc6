/** `openlun session list|end`: the iSCSI sessions logged in now (from the target daemon, through the API). */
import { ApiError } from '../api.ts';
import { CliError, HelpRequested, UsageError, parseCommand, parseInteger } from '../args.ts';
import { makeContext } from '../context.ts';
import { table } from '../output.ts';

export const SESSION_USAGE = `usage: openlun session list
       openlun session end TSIH

list shows every session (TSIH, initiator, its address, target, portal, since when). end asks the initiator to
log out (RFC 7143 §11.9.1 Async Message) and drops the session if it does not; an initiator that may still log
in will usually come back — take it out of the ACL (openlun acl deny) to keep it out.`;

interface Session {
  tsih: number;
  kind: string;
  initiatorName: string;
  isid: string;
  target?: string;
  remote: string;
  portal: string;
  since: string;
}

export async function sessionCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const U = SESSION_USAGE;
  switch (verb) {
    case 'list': {
      const { values } = parseCommand(U, rest, {});
      const ctx = makeContext(values, U);
      const sessions = await ctx.api().get<Session[]>('/api/sessions');
      ctx.print(sessions, () =>
        sessions.length === 0
          ? 'no sessions\n'
          : table(
              ['TSIH', 'KIND', 'INITIATOR', 'FROM', 'TARGET', 'PORTAL', 'SINCE'],
              sessions.map((s) => [String(s.tsih), s.kind, s.initiatorName, s.remote, s.target ?? '-', s.portal, s.since]),
            ),
      );
      return 0;
    }
    case 'end': {
      const { values, positionals } = parseCommand(U, rest, {}, [1, 1]);
      // RFC 7143 §11.13.6: the TSIH is 16 bits and never 0 for an established session
      const tsih = parseInteger(positionals[0]!, 'TSIH', 1, 0xffff, U);
      const ctx = makeContext(values, U);
      try {
        await ctx.api().call('DELETE', `/api/sessions/${tsih}`);
      } catch (err) {
        if (err instanceof ApiError && err.routeMissing) throw new CliError('this server does not support ending sessions (DELETE /api/sessions/:tsih); update openlun on the appliance');
        throw err;
      }
      ctx.print({ ended: tsih }, () => `session ${tsih} ended\n`);
      return 0;
    }
    case undefined:
      throw new UsageError('missing session command', U);
    case '--help':
    case '-h':
    case 'help':
      throw new HelpRequested(U);
    default:
      throw new UsageError(`unknown session command "${verb}"`, U);
  }
}
