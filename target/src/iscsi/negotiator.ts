/**
 * Target-side responder of RFC 7143 §6.2 key negotiation. It answers every offered key by the
 * rule in negotiation-keys.ts and keeps the typed result. Security keys (AuthMethod, CHAP_*) and
 * SendTargets are answered by login.ts / chap.ts / discovery.ts, which never pass them here.
 */
import { LoginFailure } from './login-status.ts';
import {
  KeyAnswer,
  formatBoolean,
  isAnswerConstant,
  keySpec,
  parseBoolean,
  parseNumeric,
  type KeySpec,
} from './negotiation-keys.ts';
import type { TextPair } from './text-keys.ts';

export type DigestName = 'CRC32C' | 'None';
export type SessionType = 'Normal' | 'Discovery';
/** Where a set of keys arrived: a login stage (RFC 7143 §6.3) or a Text Request in full feature phase. */
export type NegotiationStage = 'security' | 'operational' | 'full-feature';

/** What this target offers / accepts. Values feed each key's result function. */
export interface TargetSettings {
  /** Digests we accept; the initiator's order picks among them (RFC 7143 §6.2.1). */
  headerDigest: readonly DigestName[];
  dataDigest: readonly DigestName[];
  /** The largest data segment we accept (declared to the initiator). */
  maxRecvDataSegmentLength: number;
  maxBurstLength: number;
  firstBurstLength: number;
  /** Our side of the OR function: false = we allow unsolicited data without an initial R2T. */
  initialR2T: boolean;
  /** Our side of the AND function. */
  immediateData: boolean;
  maxOutstandingR2T: number;
  dataPDUInOrder: boolean;
  dataSequenceInOrder: boolean;
  defaultTime2Wait: number;
  defaultTime2Retain: number;
  errorRecoveryLevel: number;
  maxConnections: number;
  iscsiProtocolLevel: number;
  /** TaskReporting values we support (RFC 7143 §13.23). */
  taskReporting: readonly string[];
}

export const DEFAULT_TARGET_SETTINGS: TargetSettings = Object.freeze<TargetSettings>({
  headerDigest: ['CRC32C', 'None'],
  dataDigest: ['CRC32C', 'None'],
  maxRecvDataSegmentLength: 262144,
  maxBurstLength: 16776192, // 16 MiB - 1 KiB: the largest multiple of 1 KiB below 2^24
  firstBurstLength: 262144,
  initialR2T: false,
  immediateData: true,
  maxOutstandingR2T: 8,
  dataPDUInOrder: true,
  dataSequenceInOrder: true,
  defaultTime2Wait: 2,
  defaultTime2Retain: 20,
  errorRecoveryLevel: 0,
  maxConnections: 1,
  iscsiProtocolLevel: 1,
  taskReporting: ['RFC3720'],
});

/** The operational parameters in force once login completes. */
export interface NegotiatedParams {
  headerDigest: DigestName;
  dataDigest: DigestName;
  /** Declared by the initiator: the largest data segment we may SEND on this connection. */
  maxRecvDataSegmentLengthInitiator: number;
  /** Declared by us: the largest data segment we ACCEPT on this connection. */
  maxRecvDataSegmentLengthTarget: number;
  maxBurstLength: number;
  firstBurstLength: number;
  initialR2T: boolean;
  immediateData: boolean;
  maxOutstandingR2T: number;
  dataPDUInOrder: boolean;
  dataSequenceInOrder: boolean;
  defaultTime2Wait: number;
  defaultTime2Retain: number;
  errorRecoveryLevel: number;
  maxConnections: number;
  iscsiProtocolLevel: number;
  taskReporting: string;
}

/** RFC 7143 §13 defaults: what holds for a key nobody negotiated. */
export function defaultParams(settings: TargetSettings): NegotiatedParams {
  return {
    headerDigest: 'None',
    dataDigest: 'None',
    maxRecvDataSegmentLengthInitiator: 8192,
    maxRecvDataSegmentLengthTarget: settings.maxRecvDataSegmentLength,
    maxBurstLength: 262144,
    firstBurstLength: 65536,
    initialR2T: true,
    immediateData: true,
    maxOutstandingR2T: 1,
    dataPDUInOrder: true,
    dataSequenceInOrder: true,
    defaultTime2Wait: 2,
    defaultTime2Retain: 20,
    errorRecoveryLevel: 0,
    maxConnections: 1,
    iscsiProtocolLevel: 1,
    taskReporting: 'RFC3720',
  };
}

type NumericParam =
  | 'maxBurstLength'
  | 'firstBurstLength'
  | 'maxOutstandingR2T'
  | 'defaultTime2Wait'
  | 'defaultTime2Retain'
  | 'errorRecoveryLevel'
  | 'maxConnections'
  | 'iscsiProtocolLevel';
type BooleanParam = 'initialR2T' | 'immediateData' | 'dataPDUInOrder' | 'dataSequenceInOrder';

/** Which result field and which of our settings each negotiated key binds to. */
const NUMERIC_BINDINGS = {
  MaxBurstLength: 'maxBurstLength',
  FirstBurstLength: 'firstBurstLength',
  MaxOutstandingR2T: 'maxOutstandingR2T',
  DefaultTime2Wait: 'defaultTime2Wait',
  DefaultTime2Retain: 'defaultTime2Retain',
  ErrorRecoveryLevel: 'errorRecoveryLevel',
  MaxConnections: 'maxConnections',
  iSCSIProtocolLevel: 'iscsiProtocolLevel',
} as const satisfies Record<string, NumericParam>;

const BOOLEAN_BINDINGS = {
  InitialR2T: 'initialR2T',
  ImmediateData: 'immediateData',
  DataPDUInOrder: 'dataPDUInOrder',
  DataSequenceInOrder: 'dataSequenceInOrder',
} as const satisfies Record<string, BooleanParam>;

export interface NegotiationContext {
  stage: NegotiationStage;
  sessionType: SessionType;
  /** False for a connection added to an existing session: LO keys are then an error (RFC 7143 §13). */
  leading: boolean;
}

/** Keys login.ts reads itself; the negotiator accepts them silently (they need no answer). */
const IDENTITY_KEYS = new Set(['InitiatorName', 'TargetName', 'SessionType']);

export class Negotiator {
  readonly settings: TargetSettings;
  #params: NegotiatedParams;
  /** Keys already offered during this login (RFC 7143 §6.2: no key twice). */
  #seen = new Set<string>();
  #initiatorAlias: string | undefined;

  constructor(settings: TargetSettings = DEFAULT_TARGET_SETTINGS) {
    this.settings = settings;
    this.#params = defaultParams(settings);
  }

  get initiatorAlias(): string | undefined {
    return this.#initiatorAlias;
  }

  /**
   * Answer one request's keys. In login stages a violation throws LoginFailure (the login ends);
   * in full feature phase violations are answered with `Reject` instead.
   */
  respond(pairs: readonly TextPair[], ctx: NegotiationContext): TextPair[] {
    const answers: TextPair[] = [];
    let deferredFirstBurst: string | undefined;
    const inLogin = ctx.stage !== 'full-feature';
    for (const [key, value] of pairs) {
      if (inLogin) {
        // RFC 7143 §6.2: renegotiating/redeclaring a key during login is an initiator error.
        if (this.#seen.has(key)) throw new LoginFailure('InitiatorError', `key ${key} negotiated twice during login`);
        this.#seen.add(key);
      }
      const spec = keySpec(key);
      if (!spec) {
        // RFC 7143 §6.2: a key not understood is answered key=NotUnderstood (this covers X-/X# keys).
        if (!isAnswerConstant(value)) answers.push([key, KeyAnswer.NotUnderstood]);
        continue;
      }
      // Login reads the identity keys itself (and checks they come first); they need no answer.
      if (inLogin && IDENTITY_KEYS.has(key)) continue;
      const violation = this.#checkPlacement(key, spec, ctx);
      if (violation) {
        if (inLogin) throw new LoginFailure('InitiatorError', violation);
        answers.push([key, KeyAnswer.Reject]);
        continue;
      }
      // RFC 7143 §6.2: Reject/Irrelevant/NotUnderstood are answers to our offers; answers get no answer.
      if (isAnswerConstant(value)) continue;
      // RFC 7143 §13: session keys of a discovery session are answered "Irrelevant".
      if (spec.irrelevantInDiscovery && ctx.sessionType === 'Discovery') {
        answers.push([key, KeyAnswer.Irrelevant]);
        continue;
      }
      if (Buffer.byteLength(value) > (spec.maxValueBytes ?? 255)) {
        answers.push([key, KeyAnswer.Reject]);
        continue;
      }
      if (key === 'FirstBurstLength') {
        // RFC 7143 §13.14: FirstBurstLength must not exceed MaxBurstLength — answer it after
        // MaxBurstLength whatever order the keys came in.
        deferredFirstBurst = value;
        continue;
      }
      const answer = this.#answer(key, value, spec);
      if (answer !== undefined) answers.push([key, answer]);
    }
    if (deferredFirstBurst !== undefined) answers.push(['FirstBurstLength', this.#answerFirstBurst(deferredFirstBurst)]);
    return answers;
  }

  /** The parameters in force; FirstBurstLength clamped to MaxBurstLength (RFC 7143 §13.14). */
  params(): NegotiatedParams {
    const p = { ...this.#params };
    if (p.firstBurstLength > p.maxBurstLength) p.firstBurstLength = p.maxBurstLength;
    return p;
  }

  /** Our declaration of what we accept (RFC 7143 §13.12: declarative, per direction). */
  targetDeclarations(): TextPair[] {
    return [['MaxRecvDataSegmentLength', String(this.settings.maxRecvDataSegmentLength)]];
  }

  #checkPlacement(key: string, spec: KeySpec, ctx: NegotiationContext): string | undefined {
    if (spec.senders === 'T') return `key ${key} may only be sent by a target`;
    if (ctx.stage === 'full-feature') {
      // RFC 7143 §13 "Use": only ALL and FFPO keys may appear after login.
      if (spec.use !== 'ALL' && spec.use !== 'FFPO') return `key ${key} (use ${spec.use}) is not negotiable in full feature phase`;
      return undefined;
    }
    if (spec.use === 'FFPO') return `key ${key} is only allowed in full feature phase`;
    if (spec.use === 'SEC' || spec.phase === 'security') {
      if (ctx.stage !== 'security') return `security key ${key} outside the security negotiation stage`;
      return undefined;
    }
    // RFC 7143 §6.3.2: operational negotiation starts once security negotiation is over.
    if (spec.phase === 'operational' && ctx.stage === 'security') return `operational key ${key} in the security negotiation stage`;
    // RFC 7143 §13: LO keys only on the leading connection of a session.
    if (spec.use === 'LO' && !ctx.leading) return `leading-only key ${key} on a non-leading connection`;
    return undefined;
  }

  #answer(key: string, value: string, spec: KeySpec): string | undefined {
    switch (key) {
      case 'HeaderDigest':
      case 'DataDigest': {
        const ours = key === 'HeaderDigest' ? this.settings.headerDigest : this.settings.dataDigest;
        const pick = firstMatch(value, ours);
        if (pick === undefined) return KeyAnswer.Reject;
        this.#params[key === 'HeaderDigest' ? 'headerDigest' : 'dataDigest'] = pick as DigestName;
        return pick;
      }
      case 'TaskReporting': {
        const pick = firstMatch(value, this.settings.taskReporting);
        if (pick === undefined) return KeyAnswer.Reject;
        this.#params.taskReporting = pick;
        return pick;
      }
      case 'MaxRecvDataSegmentLength': {
        const n = inRange(value, spec);
        if (n === undefined) return KeyAnswer.Reject;
        // RFC 7143 §13.12: the initiator declares what it can receive, i.e. what we may send.
        this.#params.maxRecvDataSegmentLengthInitiator = n;
        return undefined;
      }
      case 'InitiatorAlias':
        this.#initiatorAlias = value;
        return undefined;
      case 'IFMarker':
      case 'OFMarker':
        // RFC 7143 §13.25 allows "No" instead of Reject; RFC 3720 initiators (open-iscsi sends
        // IFMarker=No) expect a boolean here.
        return parseBoolean(value) === undefined ? KeyAnswer.Reject : 'No';
      case 'IFMarkInt':
      case 'OFMarkInt':
        return KeyAnswer.Reject; // RFC 7143 §13.25: MUST be Reject
      case 'RDMAExtensions': {
        const b = parseBoolean(value);
        return b === undefined ? KeyAnswer.Reject : 'No'; // AND with our No: iSCSI over TCP only
      }
    }
    if (spec.type === 'boolean' && Object.hasOwn(BOOLEAN_BINDINGS, key)) {
      const field = BOOLEAN_BINDINGS[key as keyof typeof BOOLEAN_BINDINGS];
      const offered = parseBoolean(value);
      if (offered === undefined) return KeyAnswer.Reject;
      const ours = this.settings[field];
      // RFC 7143 §6.2.2: Boolean result functions.
      const result = spec.result === 'OR' ? offered || ours : offered && ours;
      this.#params[field] = result;
      return formatBoolean(result);
    }
    if (spec.type === 'numeric' && Object.hasOwn(NUMERIC_BINDINGS, key)) {
      const field = NUMERIC_BINDINGS[key as keyof typeof NUMERIC_BINDINGS];
      const offered = inRange(value, spec);
      if (offered === undefined) return KeyAnswer.Reject; // RFC 7143 §6.2.2: out of range or bad syntax
      const ours = this.settings[field];
      // RFC 7143 §6.2.2: numerical result functions.
      const result = spec.result === 'Maximum' ? Math.max(offered, ours) : Math.min(offered, ours);
      this.#params[field] = result;
      return String(result);
    }
    return KeyAnswer.NotUnderstood;
  }

  #answerFirstBurst(value: string): string {
    const spec = keySpec('FirstBurstLength')!;
    const offered = inRange(value, spec);
    if (offered === undefined) return KeyAnswer.Reject;
    const result = Math.min(offered, this.settings.firstBurstLength, this.#params.maxBurstLength);
    this.#params.firstBurstLength = result;
    return String(result);
  }
}

/** RFC 7143 §6.2.1: answer the first value of the originator's list that we support. */
function firstMatch(offered: string, supported: readonly string[]): string | undefined {
  for (const v of offered.split(',')) if (supported.includes(v)) return v;
  return undefined;
}

function inRange(value: string, spec: KeySpec): number | undefined {
  const n = parseNumeric(value);
  if (n === undefined) return undefined;
  if (spec.min !== undefined && n < spec.min) return undefined;
  if (spec.max !== undefined && n > spec.max) return undefined;
  return n;
}
