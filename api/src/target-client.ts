/**
 * The API's side of the target daemon's control socket (target/src/daemon/control.ts): one connection per request,
 * newline-delimited JSON, a timeout. Requests may carry secrets (apply); nothing here logs them.
 */
import net from 'node:net';

export class TargetControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class TargetClient {
  #nextId = 1;

  constructor(
    readonly path: string,
    readonly timeoutMs = 30_000,
  ) {}

  request<T = unknown>(op: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const socket = net.connect(this.path);
      let buf = '';
      const finish = (err: Error | undefined, value?: T): void => {
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(value as T);
      };
      const timer = setTimeout(() => finish(new TargetControlError('unavailable', `the target daemon did not answer ${op} within ${this.timeoutMs} ms`)), this.timeoutMs);
      socket.on('error', (e: NodeJS.ErrnoException) => finish(new TargetControlError('unavailable', `the target daemon is not reachable at ${this.path} (${e.code ?? e.message})`)));
      socket.on('connect', () => socket.write(JSON.stringify({ ...params, id, op }) + '\n'));
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        buf += chunk;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        let answer: { id?: unknown; result?: T; error?: { code: string; message: string } };
        try {
          answer = JSON.parse(buf.slice(0, nl));
        } catch {
          return finish(new TargetControlError('protocol', 'the target daemon sent something that is not JSON'));
        }
        if (answer.id !== id) return finish(new TargetControlError('protocol', 'the target daemon answered another request'));
        if (answer.error) return finish(new TargetControlError(answer.error.code, answer.error.message));
        finish(undefined, answer.result as T);
      });
      socket.on('close', () => finish(new TargetControlError('unavailable', `the target daemon closed the connection during ${op}`)));
    });
  }

  async ping(timeoutMs = 1000): Promise<{ pid: number } | undefined> {
    const quick = new TargetClient(this.path, timeoutMs);
    try {
      return await quick.request<{ pid: number }>('ping');
    } catch {
      return undefined;
    }
  }
}
