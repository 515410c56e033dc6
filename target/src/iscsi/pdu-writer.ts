/**
 * Writes PDUs to a socket. Every PDU queued before the event loop's check phase leaves in one corked batch: the
 * completions of one poll phase (a burst of backstore reads finishing together) become a single writev instead of
 * one syscall per response — measured as the largest single cost per 4 KiB I/O. TCP_NODELAY is set by the caller,
 * so a batch never waits behind Nagle or the initiator's delayed ACK (interop.md: ESXi uses delayed ACK).
 */
import type { Socket } from 'node:net';
import { encodePdu } from 'node-iscsi-pdu';
import type { Pdu, PduInit } from 'node-iscsi-pdu';

export interface DigestSettings {
  headerDigest: boolean;
  dataDigest: boolean;
}

/** Above this many unsent bytes the connection stops reading until the socket drains. */
export const WRITE_HIGH_WATER = 8 * 1024 * 1024;

export class PduWriter {
  private corked = false;
  digests: DigestSettings = { headerDigest: false, dataDigest: false };

  constructor(private readonly socket: Socket) {}

  private readonly flush = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  /** `onWritten` runs once the socket has taken the PDU's bytes (or failed): the data buffer may be reused then. */
  send(pdu: PduInit<Pdu>, onWritten?: () => void): void {
    if (this.socket.destroyed) {
      onWritten?.();
      return;
    }
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.flush);
    }
    const chunks = encodePdu(pdu, this.digests);
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) this.socket.write(chunks[i]!);
    if (onWritten) this.socket.write(chunks[last]!, onWritten);
    else this.socket.write(chunks[last]!);
  }

  get backlog(): number {
    return this.socket.writableLength;
  }
}
