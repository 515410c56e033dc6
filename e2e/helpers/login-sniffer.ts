// A transparent TCP relay between an initiator and a target that keeps the first bytes each way, so a
// test can read what the login phase negotiated (RFC 7143 §6: login text is key=value pairs, each
// ended by a NUL, carried in the data segment of Login Request/Response PDUs).
import { createConnection, createServer, type Server, type Socket } from 'node:net';

const CAPTURE_BYTES = 16 * 1024;

export interface LoginSniffer {
  readonly host: string;
  readonly port: number;
  /** host:port for the initiator to use instead of the target's portal. */
  readonly portal: string;
  /** Values the target sent for `key` in login responses, in order, over all connections. */
  targetSaid(key: string): string[];
  /** Values the initiator sent for `key` in login requests. */
  initiatorSaid(key: string): string[];
  close(): Promise<void>;
}

export function keyValues(captured: Buffer, key: string): string[] {
  const text = captured.toString('latin1');
  const values: string[] = [];
  const re = new RegExp(`(?:^|\\0)${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}=([^\\0]*)\\0`, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) values.push(m[1] ?? '');
  return values;
}

interface Captured {
  chunks: Buffer[];
  bytes: number;
}

function capture(c: Captured) {
  return (b: Buffer) => {
    if (c.bytes < CAPTURE_BYTES) {
      c.chunks.push(b.subarray(0, CAPTURE_BYTES - c.bytes));
      c.bytes += b.length;
    }
  };
}

/** All connections' captures, a NUL between them so their key lists stay apart. */
function joined(list: readonly Captured[]): Buffer {
  return Buffer.concat(list.flatMap((c) => [Buffer.alloc(1), ...c.chunks]));
}

export function startLoginSniffer(targetHost: string, targetPort: number): Promise<LoginSniffer> {
  const fromTarget: Captured[] = [];
  const fromInitiator: Captured[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: targetHost, port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const t: Captured = { chunks: [], bytes: 0 };
    const i: Captured = { chunks: [], bytes: 0 };
    fromTarget.push(t);
    fromInitiator.push(i);
    upstream.on('data', capture(t));
    client.on('data', capture(i));
    client.pipe(upstream);
    upstream.pipe(client);
    const done = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.once('close', done);
    upstream.once('close', done);
    client.on('error', done);
    upstream.on('error', done);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      if (!address || typeof address !== 'object') {
        reject(new Error('sniffer has no address'));
        return;
      }
      resolve({
        host: '127.0.0.1',
        port: address.port,
        portal: `127.0.0.1:${address.port}`,
        targetSaid: (key) => keyValues(joined(fromTarget), key),
        initiatorSaid: (key) => keyValues(joined(fromInitiator), key),
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
