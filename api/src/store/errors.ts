/** Store errors carry a kind the API maps to a status, and every bad field at once. */
export type StoreErrorKind = 'invalid' | 'not-found' | 'conflict' | 'in-use';

export interface FieldProblem {
  field: string;
  message: string;
}

export class StoreError extends Error {
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
    readonly fields: FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** Collects problems; `throwIfAny` raises one 'invalid' error naming all of them. */
export class Problems {
  readonly list: FieldProblem[] = [];
  check(field: string, problem: string | undefined): void {
    if (problem !== undefined) this.list.push({ field, message: `${field} ${problem}` });
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new StoreError('invalid', this.list.map((p) => p.message).join('; '), this.list);
  }
}

/** SQLite constraint failures that slip past the checks (races) become conflicts, not 500s. */
export function isConstraintError(e: unknown): e is Error & { code: string } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && (e as unknown as { code: string }).code.startsWith('SQLITE_CONSTRAINT');
}
