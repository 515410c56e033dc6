// Typed errors of the storage manager. Every failure carries a stable `code` (for the API to map to an HTTP
// status and the UI to a message) and, when a tool ran, the tool's own words (`toolMessage`): the admin sees
// what lvm2 said, not our paraphrase.

export const STORAGE_ERROR_CODES = {
  'tool-missing': 'the program is not installed (ENOENT on spawn)',
  'tool-failed': 'the program exited non-zero for a reason not classified below',
  'timeout': 'the program ran past its time bound and was killed',
  'aborted': 'the caller cancelled the operation; the program was killed',
  'lock-timeout': 'lvm2 could not take its VG or global lock (another lvm command holds it)',
  'not-found': 'the VG, LV or device named does not exist (or vanished)',
  'exists': 'an object of that name already exists',
  'no-space': 'not enough free extents / space',
  'in-use': 'the object is open, mounted, mapped or otherwise busy',
  'unsupported': 'the installed tool is too old for a required option',
  'invalid-name': 'a name broke LVM naming rules or contained unsafe characters; nothing ran',
  'refused': 'a safety rule refused the operation before anything ran',
  'parse': 'a tool printed output we could not parse',
} as const satisfies Record<string, string>;

export type StorageErrorCode = keyof typeof STORAGE_ERROR_CODES;

export class StorageError extends Error {
  constructor(readonly code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
  }
}

export interface ToolFailure {
  argv: readonly string[];
  exitCode: number | null;
  signal: string | null;
  stderr: string;
  ms: number;
}

/** A tool ran (or could not be started) and failed. `toolMessage` is lvm's own error text, prefixes trimmed. */
export class ToolError extends StorageError {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderr: string;
  readonly toolMessage: string;
  constructor(code: StorageErrorCode, failure: ToolFailure, toolMessage: string, summary?: string) {
    const head = `${failure.argv[0]} ${failure.argv.slice(1, 3).join(' ')}`.trim();
    super(code, `${head}: ${summary ?? toolMessage ?? 'failed'}`);
    this.name = 'ToolError';
    this.argv = failure.argv;
    this.exitCode = failure.exitCode;
    this.signal = failure.signal;
    this.stderr = failure.stderr;
    this.toolMessage = toolMessage;
  }
}

/** Refused before any process ran: a bad name, a system disk, a missing confirmation, an object in use. */
export class RefusedError extends StorageError {
  constructor(code: 'invalid-name' | 'refused' | 'in-use' | 'not-found', message: string) {
    super(code, message);
    this.name = 'RefusedError';
  }
}

export class ReportParseError extends StorageError {
  constructor(message: string, readonly excerpt: string) {
    super('parse', `${message}: ${excerpt.slice(0, 200)}`);
    this.name = 'ReportParseError';
  }
}
