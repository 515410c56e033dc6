/**
 * Typed confirmation for changes that lose data (pv create --wipe, vg remove, snapshot rollback, lun delete
 * --delete-data): at a terminal the person types the object's name (a y/n reflex is too easy to give); a script
 * has no one to ask, so it must say --yes, and is told so before anything is sent to the appliance.
 */
import { openSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import tty from 'node:tty';
import { CliError } from '../args.ts';

/** How the answer is obtained: the real terminal, or (tests) a stand-in. */
export interface Asker {
  /** undefined when there is no terminal to ask on */
  ask(question: string): Promise<string | undefined>;
}

export const terminalAsker: Asker = {
  async ask(question) {
    let input: tty.ReadStream;
    let output: tty.WriteStream;
    try {
      input = new tty.ReadStream(openSync('/dev/tty', 'r'));
      output = new tty.WriteStream(openSync('/dev/tty', 'w'));
    } catch {
      return undefined;
    }
    const rl = createInterface({ input, output, terminal: true });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
      input.destroy();
      output.destroy();
    }
  },
};

/**
 * Returns when the change may go ahead; throws CliError (exit 1, nothing changed) otherwise.
 * `consequence` says what is lost, `typed` is what the person must type (the object's name).
 */
export async function confirmDestructive(o: { yes: boolean | undefined; consequence: string; typed: string }, asker: Asker = terminalAsker): Promise<void> {
  if (o.yes) return;
  const answer = await asker.ask(`${o.consequence}\nType ${o.typed} to confirm (anything else cancels): `);
  if (answer === undefined) throw new CliError(`${o.consequence}; no terminal to confirm on: add --yes to do it anyway (nothing was changed)`);
  if (answer.trim() !== o.typed) throw new CliError(`not confirmed (expected "${o.typed}"); nothing was changed`);
}
