// The typed confirmation in front of data-losing commands: --yes skips it, no terminal refuses with a pointer to
// --yes, a wrong answer cancels, only the exact name goes ahead (surrounding blanks forgiven).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError } from '../client/args.ts';
import { confirmDestructive } from '../client/commands/confirm.ts';
import type { Asker } from '../client/commands/confirm.ts';

const answering = (answer: string | undefined, asked: string[] = []): Asker => ({ ask: async (q) => (asked.push(q), answer) });
const o = { consequence: 'vg remove deletes volume group data', typed: 'data' };

test('--yes goes ahead without asking', async () => {
  const asked: string[] = [];
  await confirmDestructive({ ...o, yes: true }, answering(undefined, asked));
  assert.deepEqual(asked, []);
});

test('no terminal: refused, naming --yes', async () => {
  await assert.rejects(confirmDestructive({ ...o, yes: false }, answering(undefined)), (e: Error) => e instanceof CliError && /add --yes/.test(e.message) && /volume group data/.test(e.message));
});

test('the exact name goes ahead; anything else cancels', async () => {
  const asked: string[] = [];
  await confirmDestructive({ ...o, yes: false }, answering(' data\n', asked));
  assert.match(asked[0]!, /vg remove deletes volume group data\nType data to confirm/);
  for (const wrong of ['', 'y', 'yes', 'Data', 'data2']) {
    await assert.rejects(confirmDestructive({ ...o, yes: undefined }, answering(wrong)), /not confirmed \(expected "data"\); nothing was changed/);
  }
});
