/**
 * Writes PDUs to a socket. Every PDU queued in one turn of the event loop leaves in one corked batch, so a status
 * never waits behind Nagle or delayed ACK (interop.md: ESXi uses delayed ACK; TCP_NODELAY is set by the caller),
 * and a Data-In burst becomes a few large writes instead of many small ones.
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

  send(pdu: PduInit<Pdu>): void {
    if (this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    for (const chunk of encodePdu(pdu, this.digests)) this.socket.write(chunk);
  }

  get backlog(): number {
    return this.socket.writableLength;
  }
}
