/**
 * Text Requests in full feature phase (RFC 7143 §11.10, §11.11): SendTargets for discovery and
 * normal sessions (§13.3, Appendix C), text negotiation of the few keys allowed after login, and
 * long answers split over several Text Responses with the C bit and a Target Transfer Tag.
 */
import { Opcode, RESERVED_TAG, RejectReason } from 'node-iscsi-pdu';
import type { TextRequestPdu, TextResponsePdu } from 'node-iscsi-pdu';
import type { LoginSequenceNumbers, TargetDirectory, TargetInfo } from './login.ts';
import { KeyAnswer, keySpec } from './negotiation-keys.ts';
import { DEFAULT_TARGET_SETTINGS, Negotiator, type SessionType, type TargetSettings } from './negotiator.ts';
import { TextAccumulator, TextFormatError, encodeTextPairs, parseTextData, splitText, type TextChunk, type TextPair } from './text-keys.ts';

export interface SendTargetsEntry {
  name: string;
  addresses: Array<{ host: string; port: number; portalGroupTag: number }>;
}

/** RFC 7143 §13.8: `domainname[:port],tpgt`, an IPv6 literal in brackets. */
export function formatTargetAddress(host: string, port: number, portalGroupTag: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${h}:${port},${portalGroupTag}`;
}

/** RFC 7143 Appendix C: one TargetName followed by its TargetAddress entries, per target. */
export function encodeSendTargets(entries: readonly SendTargetsEntry[]): TextPair[] {
  const pairs: TextPair[] = [];
  for (const e of entries) {
    pairs.push(['TargetName', e.name]);
    for (const a of e.addresses) pairs.push(['TargetAddress', formatTargetAddress(a.host, a.port, a.portalGroupTag)]);
  }
  return pairs;
}

export interface TextContext {
  directory: TargetDirectory;
  sessionType: SessionType;
  initiatorName: string;
  /** The session's target (normal sessions). */
  target?: TargetInfo;
  /** The initiator's MaxRecvDataSegmentLength: the most text one Text Response may carry. */
  maxSendDataSegmentLength: number;
  settings?: TargetSettings;
  /** StatSN/ExpCmdSN/MaxCmdSN per response; default zeros (the connection fills them in). */
  sequence?: () => LoginSequenceNumbers;
  /** Target Transfer Tag source for continued exchanges; must never return 0xffffffff. */
  nextTargetTransferTag?: () => number;
}

/** Values the initiator re-declared in this exchange (RFC 7143 §13.12, §13.7). */
export interface TextChanges {
  maxRecvDataSegmentLengthInitiator?: number;
  initiatorAlias?: string;
}

export type TextStep =
  | { kind: 'respond'; response: TextResponsePdu; changes: TextChanges }
  /** Answer with a Reject PDU (RFC 7143 §11.17) carrying the request's header. */
  | { kind: 'reject'; reason: number; why: string };

interface Exchange {
  itt: number;
  ttt: number;
  /** Response text not yet sent. */
  chunks: TextChunk[];
  /** F bit of the request that produced the answer. */
  final: boolean;
}

export class TextSession {
  #ctx: TextContext;
  #acc = new TextAccumulator();
  #exchange: Exchange | undefined;
  #tagCounter = 0;
  #settings: TargetSettings;

  constructor(ctx: TextContext) {
    this.#ctx = ctx;
    this.#settings = ctx.settings ?? DEFAULT_TARGET_SETTINGS;
  }

  /** The current limit for one Text Response's data (updated when the initiator re-declares it). */
  get maxSendDataSegmentLength(): number {
    return this.#ctx.maxSendDataSegmentLength;
  }

  handle(req: TextRequestPdu): TextStep {
    const ex = this.#exchange;
    if (req.ttt !== RESERVED_TAG) {
      // RFC 7143 §11.10.4: a TTT other than 0xffffffff continues the exchange that handed it out.
      if (!ex || req.ttt !== ex.ttt || req.itt !== ex.itt) return this.#reject(RejectReason.InvalidPduField, `Text Request with unknown TTT 0x${req.ttt.toString(16)}`);
      if (ex.chunks.length > 0) {
        if (req.data.length > 0 || req.continue) return this.#reject(RejectReason.ProtocolError, 'new text while the target response is being continued');
        return this.#sendChunk(req, ex, {});
      }
    } else if (ex || this.#acc.pending) {
      // RFC 7143 §11.10.4: TTT 0xffffffff starts a new exchange; whatever was pending is dropped.
      this.#exchange = undefined;
      this.#acc.reset();
    }
    // RFC 7143 §11.10.2: a Text Request with C=1 must have F=0.
    if (req.continue && req.final) return this.#reject(RejectReason.ProtocolError, 'Text Request with both C and F set');

    let pairs: TextPair[];
    try {
      const text = this.#acc.push(req.data, req.continue);
      if (text === undefined) {
        // RFC 7143 §11.10.2: acknowledge a partial request with an empty response and a TTT.
        const open = this.#open(req, [], false);
        return { kind: 'respond', response: this.#response(req, { data: Buffer.alloc(0), final: false, continue: false, ttt: open.ttt }), changes: {} };
      }
      pairs = parseTextData(text);
    } catch (err) {
      if (err instanceof TextFormatError) return this.#reject(RejectReason.ProtocolError, `bad text: ${err.message}`);
      throw err;
    }
    const changes: TextChanges = {};
    const answers = this.#answer(pairs, changes);
    const exchange = this.#open(req, splitText(encodeTextPairs(answers), this.#ctx.maxSendDataSegmentLength), req.final);
    return this.#sendChunk(req, exchange, changes);
  }

  #answer(pairs: readonly TextPair[], changes: TextChanges): TextPair[] {
    const answers: TextPair[] = [];
    const rest: TextPair[] = [];
    for (const pair of pairs) {
      if (pair[0] === 'SendTargets') answers.push(...this.#sendTargets(pair[1]));
      else rest.push(pair);
    }
    // A fresh negotiator per exchange: in full feature phase keys may be re-declared (RFC 7143 §6.2).
    const negotiator = new Negotiator(this.#settings);
    const negotiated = negotiator.respond(rest, { stage: 'full-feature', sessionType: this.#ctx.sessionType, leading: true });
    answers.push(...negotiated);
    const rejected = new Set(negotiated.filter(([, v]) => v === KeyAnswer.Reject).map(([k]) => k));
    for (const [key] of rest) {
      if (rejected.has(key)) continue;
      if (key === 'MaxRecvDataSegmentLength') {
        changes.maxRecvDataSegmentLengthInitiator = negotiator.params().maxRecvDataSegmentLengthInitiator;
        // RFC 7143 §13.12: the new limit applies to what we send from now on.
        this.#ctx.maxSendDataSegmentLength = changes.maxRecvDataSegmentLengthInitiator;
      } else if (key === 'InitiatorAlias' && negotiator.initiatorAlias !== undefined) {
        changes.initiatorAlias = negotiator.initiatorAlias;
      }
    }
    return answers;
  }

  /** RFC 7143 §13.3 and Appendix C. */
  #sendTargets(value: string): TextPair[] {
    const { directory, initiatorName, sessionType, target } = this.#ctx;
    if (Buffer.byteLength(value) > (keySpec('SendTargets')!.maxValueBytes ?? 255)) return [['SendTargets', KeyAnswer.Reject]];
    if (sessionType === 'Discovery') {
      // The empty value names the session's own target, which a discovery session does not have.
      if (value === '') return [['SendTargets', KeyAnswer.Reject]];
      return encodeSendTargets(directory.sendTargets(initiatorName, value));
    }
    // Normal session: "All" is for discovery sessions; empty = the target of this session.
    if (value === 'All') return [['SendTargets', KeyAnswer.Reject]];
    return encodeSendTargets(directory.sendTargets(initiatorName, value === '' ? target!.name : value));
  }

  #open(req: TextRequestPdu, chunks: TextChunk[], final: boolean): Exchange {
    const ttt = this.#exchange?.ttt ?? this.#nextTag();
    this.#exchange = { itt: req.itt, ttt, chunks, final };
    return this.#exchange;
  }

  #nextTag(): number {
    if (this.#ctx.nextTargetTransferTag) {
      const t = this.#ctx.nextTargetTransferTag();
      if (t === RESERVED_TAG) throw new RangeError('Target Transfer Tag 0xffffffff is reserved');
      return t;
    }
    this.#tagCounter = (this.#tagCounter + 1) % RESERVED_TAG || 1;
    return this.#tagCounter;
  }

  /**
   * RFC 7143 §11.11.1–§11.11.4: F=0 and a TTT while text remains (C=1 only when the chunk ends
   * inside a pair); F=1 with TTT 0xffffffff at the end.
   */
  #sendChunk(req: TextRequestPdu, ex: Exchange, changes: TextChanges): TextStep {
    const next = ex.chunks.shift();
    const chunk = next?.data ?? Buffer.alloc(0);
    if (ex.chunks.length > 0) {
      return { kind: 'respond', response: this.#response(req, { data: chunk, final: false, continue: next!.partial, ttt: ex.ttt }), changes };
    }
    if (ex.final) {
      this.#exchange = undefined;
      return { kind: 'respond', response: this.#response(req, { data: chunk, final: true, continue: false, ttt: RESERVED_TAG }), changes };
    }
    // The initiator left F=0: it may go on negotiating in this exchange, so keep the TTT.
    return { kind: 'respond', response: this.#response(req, { data: chunk, final: false, continue: false, ttt: ex.ttt }), changes };
  }

  #reject(reason: number, why: string): TextStep {
    this.#exchange = undefined;
    this.#acc.reset();
    return { kind: 'reject', reason, why };
  }

  #response(req: TextRequestPdu, f: { data: Buffer; final: boolean; continue: boolean; ttt: number }): TextResponsePdu {
    const seq = this.#ctx.sequence?.() ?? { statSN: 0, expCmdSN: 0, maxCmdSN: 0 };
    return {
      opcode: Opcode.TextResponse,
      ahs: Buffer.alloc(0),
      data: f.data,
      final: f.final,
      continue: f.continue,
      // RFC 7143 §11.11.3: the LUN is reserved unless TTT ≠ 0xffffffff, where it echoes the request.
      lun: f.ttt === RESERVED_TAG ? 0n : req.lun,
      itt: req.itt,
      ttt: f.ttt,
      statSN: seq.statSN,
      expCmdSN: seq.expCmdSN,
      maxCmdSN: seq.maxCmdSN,
    };
  }
}
