/**
 * Every text key of RFC 7143 §13 (plus iSCSIProtocolLevel from RFC 7144 §2.1 and the RFC 7145
 * RDMAExtensions key a TCP target must refuse), one row each: type, range, default, result
 * function, use, senders, scope. The negotiator (negotiator.ts) reads only this table.
 */

/** RFC 7143 §6.2 result functions; 'declarative' keys need no answer, 'chap'/'query' are handled elsewhere. */
export type ResultFunction = 'list-first-match' | 'OR' | 'AND' | 'Minimum' | 'Maximum' | 'declarative' | 'security' | 'query' | 'obsolete';

/**
 * RFC 7143 §13 "Use": IO = initial login request only, LO = leading connection's login only,
 * ALL = any time, FFPO = full feature phase only, SEC = security negotiation stage only (§12).
 */
export type KeyUse = 'IO' | 'LO' | 'ALL' | 'FFPO' | 'SEC';

/**
 * Which login stage may carry the key (RFC 7143 §6.3): security keys only in the security stage,
 * negotiated operational keys only in the operational stage (§6.3.2: operational negotiation starts
 * after security negotiation), declarations in either.
 */
export type LoginPhase = 'security' | 'operational' | 'declarative';

export interface KeySpec {
  type: 'list' | 'boolean' | 'numeric' | 'string' | 'enum' | 'binary';
  result: ResultFunction;
  use: KeyUse;
  phase: LoginPhase;
  /** Who may send it: I initiator, T target, IT both (RFC 7143 §13 "Senders"). */
  senders: 'I' | 'T' | 'IT';
  /** SW session-wide, CO connection-only (RFC 7143 §13 "Scope"). */
  scope: 'SW' | 'CO';
  min?: number;
  max?: number;
  default?: string;
  /** Allowed values of list/enum keys. */
  values?: readonly string[];
  /** Longest value in bytes (RFC 7143 §6.1: 255 unless the key says otherwise). */
  maxValueBytes?: number;
  /** RFC 7143 §13 "Irrelevant when: SessionType=Discovery" — answered with `Irrelevant`. */
  irrelevantInDiscovery?: boolean;
  /** Where the rule is written. */
  ref: string;
}

const MAX_24 = 2 ** 24 - 1;

export const NEGOTIATION_KEYS = {
  HeaderDigest: { type: 'list', result: 'list-first-match', use: 'IO', phase: 'operational', senders: 'IT', scope: 'CO', values: ['CRC32C', 'None'], default: 'None', ref: 'RFC 7143 §13.1' },
  DataDigest: { type: 'list', result: 'list-first-match', use: 'IO', phase: 'operational', senders: 'IT', scope: 'CO', values: ['CRC32C', 'None'], default: 'None', ref: 'RFC 7143 §13.1' },
  MaxConnections: { type: 'numeric', result: 'Minimum', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', min: 1, max: 65535, default: '1', ref: 'RFC 7143 §13.2' },
  SendTargets: { type: 'string', result: 'query', use: 'FFPO', phase: 'declarative', senders: 'I', scope: 'SW', maxValueBytes: 255, ref: 'RFC 7143 §13.3, Appendix C' },
  TargetName: { type: 'string', result: 'declarative', use: 'IO', phase: 'declarative', senders: 'IT', scope: 'SW', maxValueBytes: 223, ref: 'RFC 7143 §13.4' },
  InitiatorName: { type: 'string', result: 'declarative', use: 'IO', phase: 'declarative', senders: 'I', scope: 'SW', maxValueBytes: 223, ref: 'RFC 7143 §13.5' },
  TargetAlias: { type: 'string', result: 'declarative', use: 'ALL', phase: 'declarative', senders: 'T', scope: 'SW', maxValueBytes: 255, ref: 'RFC 7143 §13.6' },
  InitiatorAlias: { type: 'string', result: 'declarative', use: 'ALL', phase: 'declarative', senders: 'I', scope: 'SW', maxValueBytes: 255, ref: 'RFC 7143 §13.7' },
  TargetAddress: { type: 'string', result: 'declarative', use: 'ALL', phase: 'declarative', senders: 'T', scope: 'SW', maxValueBytes: 255, ref: 'RFC 7143 §13.8' },
  TargetPortalGroupTag: { type: 'numeric', result: 'declarative', use: 'IO', phase: 'declarative', senders: 'T', scope: 'SW', min: 0, max: 65535, ref: 'RFC 7143 §13.9' },
  InitialR2T: { type: 'boolean', result: 'OR', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', default: 'Yes', irrelevantInDiscovery: true, ref: 'RFC 7143 §13.10' },
  ImmediateData: { type: 'boolean', result: 'AND', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', default: 'Yes', irrelevantInDiscovery: true, ref: 'RFC 7143 §13.11' },
  MaxRecvDataSegmentLength: { type: 'numeric', result: 'declarative', use: 'ALL', phase: 'declarative', senders: 'IT', scope: 'CO', min: 512, max: MAX_24, default: '8192', ref: 'RFC 7143 §13.12' },
  MaxBurstLength: { type: 'numeric', result: 'Minimum', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', min: 512, max: MAX_24, default: '262144', irrelevantInDiscovery: true, ref: 'RFC 7143 §13.13' },
  FirstBurstLength: { type: 'numeric', result: 'Minimum', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', min: 512, max: MAX_24, default: '65536', irrelevantInDiscovery: true, ref: 'RFC 7143 §13.14' },
  DefaultTime2Wait: { type: 'numeric', result: 'Maximum', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', min: 0, max: 3600, default: '2', ref: 'RFC 7143 §13.15' },
  DefaultTime2Retain: { type: 'numeric', result: 'Minimum', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', min: 0, max: 3600, default: '20', ref: 'RFC 7143 §13.16' },
  MaxOutstandingR2T: { type: 'numeric', result: 'Minimum', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', min: 1, max: 65535, default: '1', irrelevantInDiscovery: true, ref: 'RFC 7143 §13.17' },
  DataPDUInOrder: { type: 'boolean', result: 'OR', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', default: 'Yes', irrelevantInDiscovery: true, ref: 'RFC 7143 §13.18' },
  DataSequenceInOrder: { type: 'boolean', result: 'OR', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', default: 'Yes', irrelevantInDiscovery: true, ref: 'RFC 7143 §13.19' },
  ErrorRecoveryLevel: { type: 'numeric', result: 'Minimum', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', min: 0, max: 2, default: '0', ref: 'RFC 7143 §13.20' },
  SessionType: { type: 'enum', result: 'declarative', use: 'LO', phase: 'declarative', senders: 'I', scope: 'SW', values: ['Discovery', 'Normal'], default: 'Normal', ref: 'RFC 7143 §13.21' },
  TaskReporting: { type: 'list', result: 'list-first-match', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', values: ['RFC3720', 'ResponseFence', 'FastAbort'], default: 'RFC3720', irrelevantInDiscovery: true, ref: 'RFC 7143 §13.23' },
  iSCSIProtocolLevel: { type: 'numeric', result: 'Minimum', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', min: 0, max: 31, default: '1', ref: 'RFC 7144 §2.1, RFC 7143 §13.24' },
  // RFC 7143 §13.25: obsoleted marker keys. IFMarker/OFMarker SHOULD get Reject (MAY get No),
  // IFMarkInt/OFMarkInt MUST get Reject; none may get NotUnderstood.
  IFMarker: { type: 'boolean', result: 'obsolete', use: 'IO', phase: 'operational', senders: 'IT', scope: 'CO', default: 'No', ref: 'RFC 7143 §13.25' },
  OFMarker: { type: 'boolean', result: 'obsolete', use: 'IO', phase: 'operational', senders: 'IT', scope: 'CO', default: 'No', ref: 'RFC 7143 §13.25' },
  IFMarkInt: { type: 'string', result: 'obsolete', use: 'IO', phase: 'operational', senders: 'IT', scope: 'CO', ref: 'RFC 7143 §13.25' },
  OFMarkInt: { type: 'string', result: 'obsolete', use: 'IO', phase: 'operational', senders: 'IT', scope: 'CO', ref: 'RFC 7143 §13.25' },
  // RFC 7145 §6.3.1: iSER's switch; a TCP-only target answers No (AND function).
  RDMAExtensions: { type: 'boolean', result: 'AND', use: 'LO', phase: 'operational', senders: 'IT', scope: 'SW', default: 'No', ref: 'RFC 7145 §6.3.1' },
  // RFC 7143 §12: security negotiation, answered by login.ts / chap.ts.
  AuthMethod: { type: 'list', result: 'security', use: 'SEC', phase: 'security', senders: 'IT', scope: 'CO', values: ['KRB5', 'SPKM1', 'SPKM2', 'SRP', 'CHAP', 'None'], default: 'None', ref: 'RFC 7143 §12' },
  CHAP_A: { type: 'list', result: 'security', use: 'SEC', phase: 'security', senders: 'IT', scope: 'CO', ref: 'RFC 7143 §12.1.3' },
  CHAP_I: { type: 'numeric', result: 'security', use: 'SEC', phase: 'security', senders: 'IT', scope: 'CO', min: 0, max: 255, ref: 'RFC 7143 §12.1.3' },
  CHAP_C: { type: 'binary', result: 'security', use: 'SEC', phase: 'security', senders: 'IT', scope: 'CO', maxValueBytes: 2 + 2 * 1024, ref: 'RFC 7143 §12.1.3' },
  CHAP_N: { type: 'string', result: 'security', use: 'SEC', phase: 'security', senders: 'IT', scope: 'CO', maxValueBytes: 255, ref: 'RFC 7143 §12.1.3' },
  CHAP_R: { type: 'binary', result: 'security', use: 'SEC', phase: 'security', senders: 'IT', scope: 'CO', maxValueBytes: 2 + 2 * 1024, ref: 'RFC 7143 §12.1.3' },
} as const satisfies Record<string, KeySpec>;

export type KeyName = keyof typeof NEGOTIATION_KEYS;

/** The constant answers of RFC 7143 §6.2. */
export const KeyAnswer = { Reject: 'Reject', Irrelevant: 'Irrelevant', NotUnderstood: 'NotUnderstood' } as const;

export function keySpec(key: string): KeySpec | undefined {
  return Object.hasOwn(NEGOTIATION_KEYS, key) ? (NEGOTIATION_KEYS as Record<string, KeySpec>)[key] : undefined;
}

/** RFC 7143 §13.5.1/§13.5.2: "X-" private and "X#" IANA-registered extension keys. */
export function isExtensionKey(key: string): boolean {
  return key.startsWith('X-') || key.startsWith('X#');
}

/** RFC 7143 §6.2: these values are answers, never offers; an acceptor must not answer them. */
export function isAnswerConstant(value: string): boolean {
  return value === KeyAnswer.Reject || value === KeyAnswer.Irrelevant || value === KeyAnswer.NotUnderstood;
}

/** RFC 7143 §6.1 numerical-value: unsigned decimal (leading zeros allowed). Returns undefined on bad syntax. */
export function parseNumeric(value: string): number | undefined {
  if (!/^[0-9]{1,20}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** RFC 7143 §6.1 boolean-value. */
export function parseBoolean(value: string): boolean | undefined {
  return value === 'Yes' ? true : value === 'No' ? false : undefined;
}

export function formatBoolean(b: boolean): 'Yes' | 'No' {
  return b ? 'Yes' : 'No';
}
