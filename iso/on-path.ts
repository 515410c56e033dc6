/** Whether a program is on PATH (an executable file in one of its directories) — no shell needed to ask. */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export function onPath(cmd: string, path = process.env['PATH'] ?? ''): boolean {
  if (cmd.includes('/')) return isExecutable(cmd);
  return path.split(delimiter).some((dir) => dir !== '' && isExecutable(join(dir, cmd)));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
