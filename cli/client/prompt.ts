/**
 * Talking to the person at the terminal: questions go to /dev/tty (not stdout, which a script may be reading, and
 * not stdin, which may carry --password-stdin), passwords are read without echo. Secrets also come from stdin or
 * a file, never from argv (the process list shows argv to every user).
 */
import { openSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import tty from 'node:tty';
import { CliError } from './args.ts';

/** Ctrl-C or Ctrl-D at a prompt. */
export class PromptCancelled extends CliError {
  constructor() {
    super('cancelled');
  }
}

function openTerminal(): { input: tty.ReadStream; output: tty.WriteStream } | undefined {
  try {
    const input = new tty.ReadStream(openSync('/dev/tty', 'r'));
    const output = new tty.WriteStream(openSync('/dev/tty', 'w'));
    return { input, output };
  } catch {
    return undefined;
  }
}

export function hasTerminal(): boolean {
  const t = openTerminal();
  if (!t) return false;
  t.input.destroy();
  t.output.destroy();
  return true;
}

/** Reads a line from the terminal without echoing it. */
export async function askHidden(question: string): Promise<string> {
  const t = openTerminal();
  if (!t) throw new CliError('no terminal to ask for the password on; use --password-stdin');
  const { input, output } = t;
  output.write(question);
  input.setRawMode(true);
  try {
    return await new Promise<string>((resolve, reject) => {
      let text = '';
      input.setEncoding('utf8');
      input.on('data', (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n') return resolve(text);
          if (ch === '\u0003' || (ch === '\u0004' && text === '')) return reject(new PromptCancelled());
          if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
          else if (ch === '\u0015') text = ''; // Ctrl-U: erase the line, as the terminal would
          else if (ch >= ' ') text += ch;
        }
      });
    });
  } finally {
    input.setRawMode(false);
    output.write('\n');
    input.destroy();
    output.destroy();
  }
}

/** A yes/no question on the terminal; false without a terminal. */
export async function askYesNo(question: string): Promise<boolean> {
  const t = openTerminal();
  if (!t) return false;
  const rl = createInterface({ input: t.input, output: t.output, terminal: true });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
    t.input.destroy();
    t.output.destroy();
  }
}

let stdinText: Promise<string> | undefined;

/** All of stdin (once; later calls get the same text). */
export function readStdin(): Promise<string> {
  stdinText ??= new Promise((resolve, reject) => {
    if (process.stdin.isTTY) process.stderr.write('(reading from standard input; end with Ctrl-D)\n');
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
  return stdinText;
}

/** One secret per line from stdin: line `index` (0-based), without its line ending. */
export async function secretFromStdin(index: number, what: string): Promise<string> {
  const lines = (await readStdin()).split(/\r?\n/);
  const line = lines[index];
  if (line === undefined || line === '') throw new CliError(`${what}: expected on line ${index + 1} of standard input, found nothing`);
  return line;
}

/** A secret from a file: its first line, without the line ending. */
export function secretFromFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`${what}: cannot read ${path}: ${(err as Error).message}`);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line === '') throw new CliError(`${what}: ${path} is empty`);
  return line;
}
