/**
 * GET /api/negotiation: the login parameters the iSCSI target negotiates (RFC 7143 §13), each with the value the
 * target offers or accepts, the RFC default (what holds when nobody sends the key) and the rule that combines both
 * sides (§6.2). Read-only: the values come from the target's own tables (negotiation-keys.ts, negotiator.ts), so
 * what the UI shows is what a login gets; this version has no setting that changes them.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { NEGOTIATION_KEYS, formatBoolean, type KeyName } from '../../../target/src/iscsi/negotiation-keys.ts';
import { DEFAULT_TARGET_SETTINGS, type TargetSettings } from '../../../target/src/iscsi/negotiator.ts';
import { StringEnum, responses } from '../schemas.ts';

/** The operational keys an admin tunes on other targets, in the order RFC 7143 §13 groups them for a reader. */
const SHOWN = [
  'MaxRecvDataSegmentLength',
  'MaxBurstLength',
  'FirstBurstLength',
  'InitialR2T',
  'ImmediateData',
  'MaxOutstandingR2T',
  'MaxConnections',
  'DataPDUInOrder',
  'DataSequenceInOrder',
  'ErrorRecoveryLevel',
  'DefaultTime2Wait',
  'DefaultTime2Retain',
  'HeaderDigest',
  'DataDigest',
] as const satisfies readonly KeyName[];
type ShownKey = (typeof SHOWN)[number];

/** Each key's side of the target, read from the settings the target's negotiator uses. */
const OFFERED: Record<ShownKey, (s: TargetSettings) => string> = {
  MaxRecvDataSegmentLength: (s) => String(s.maxRecvDataSegmentLength),
  MaxBurstLength: (s) => String(s.maxBurstLength),
  FirstBurstLength: (s) => String(s.firstBurstLength),
  InitialR2T: (s) => formatBoolean(s.initialR2T),
  ImmediateData: (s) => formatBoolean(s.immediateData),
  MaxOutstandingR2T: (s) => String(s.maxOutstandingR2T),
  MaxConnections: (s) => String(s.maxConnections),
  DataPDUInOrder: (s) => formatBoolean(s.dataPDUInOrder),
  DataSequenceInOrder: (s) => formatBoolean(s.dataSequenceInOrder),
  ErrorRecoveryLevel: (s) => String(s.errorRecoveryLevel),
  DefaultTime2Wait: (s) => String(s.defaultTime2Wait),
  DefaultTime2Retain: (s) => String(s.defaultTime2Retain),
  // RFC 7143 §6.2.1: a list in our order of preference; the initiator's order picks among them
  HeaderDigest: (s) => s.headerDigest.join(','),
  DataDigest: (s) => s.dataDigest.join(','),
};

const NegotiationKey = Type.Object({
  key: Type.String(),
  /** what the target offers (or, for declarative keys, declares) */
  target: Type.String(),
  /** RFC 7143 §13 default: in force when neither side sends the key */
  default: Type.String(),
  /** RFC 7143 §6.2 result function combining the two sides */
  result: StringEnum(['list-first-match', 'OR', 'AND', 'Minimum', 'Maximum', 'declarative']),
  type: StringEnum(['list', 'boolean', 'numeric']),
  /** SW session-wide, CO per connection */
  scope: StringEnum(['SW', 'CO']),
  min: Type.Optional(Type.Integer()),
  max: Type.Optional(Type.Integer()),
  values: Type.Optional(Type.Array(Type.String())),
  ref: Type.String(),
});
const Negotiation = Type.Object({
  /** false: no setting changes these in this version */
  editable: Type.Boolean(),
  keys: Type.Array(NegotiationKey),
});
export type NegotiationInfo = Static<typeof Negotiation>;

export function negotiationInfo(settings: TargetSettings = DEFAULT_TARGET_SETTINGS): NegotiationInfo {
  return {
    editable: false,
    keys: SHOWN.map((key) => {
      const spec: (typeof NEGOTIATION_KEYS)[ShownKey] = NEGOTIATION_KEYS[key];
      return {
        key,
        target: OFFERED[key](settings),
        default: spec.default,
        result: spec.result,
        type: spec.type,
        scope: spec.scope,
        ...('min' in spec ? { min: spec.min, max: spec.max } : {}),
        ...('values' in spec ? { values: [...spec.values] } : {}),
        ref: spec.ref,
      };
    }),
  };
}

export async function negotiationRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/negotiation', {
    schema: { tags: ['targets'], summary: 'iSCSI login parameters: the target side, the RFC default, the result function', response: responses({ 200: Negotiation }) },
  }, async () => negotiationInfo());
}
