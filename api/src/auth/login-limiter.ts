/**
 * Login rate limiting per client address (a sliding window of attempts), apart from the per-account lockout kept in
 * the store: the first slows password guessing across many accounts, the second guessing at one account from many
 * addresses. In memory on purpose: it protects the running process, and a restart is no cheaper for an attacker.
 */
export interface LimiterOptions {
  maxAttempts: number;
  windowMs: number;
  now: () => number;
}

export class LoginLimiter {
  readonly #attempts = new Map<string, number[]>();
  constructor(private readonly opts: LimiterOptions) {}

  /** Records an attempt; returns how many ms to wait when over the limit, else 0. */
  attempt(key: string): number {
    const now = this.opts.now();
    const recent = (this.#attempts.get(key) ?? []).filter((t) => t > now - this.opts.windowMs);
    if (recent.length >= this.opts.maxAttempts) {
      this.#attempts.set(key, recent);
      return recent[0]! + this.opts.windowMs - now;
    }
    recent.push(now);
    this.#attempts.set(key, recent);
    // bound memory under a spray from many addresses
    if (this.#attempts.size > 10_000) this.#attempts.delete(this.#attempts.keys().next().value!);
    return 0;
  }

  reset(key: string): void {
    this.#attempts.delete(key);
  }
}
