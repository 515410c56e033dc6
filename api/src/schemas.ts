/**
 * TypeBox schemas shared by the routes: they validate requests, shape responses (only declared fields are ever
 * serialized, so a secret added to a record by mistake still never leaves) and generate the OpenAPI document.
 * Every string and array has a bound: allErrors makes Ajv report every problem, and bounds keep that cheap.
 */
import { Type, type StringOptions, type TSchema, type TUnsafe } from '@sinclair/typebox';
import type { FormatName } from './formats.ts';

/** A string enum as JSON Schema `enum`: one clear error ("must be one of …") instead of anyOf noise. */
export function StringEnum<const T extends readonly string[]>(values: T, opts: object = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...opts });
}
export function IntEnum<const T extends readonly number[]>(values: T): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'integer', enum: [...values] });
}
/** A string checked by one of the name rules (formats.ts). */
export function Formatted(format: FormatName, opts: StringOptions = {}) {
  return Type.String({ minLength: 1, maxLength: 255, ...opts, format });
}

export const Id = Type.Integer({ minimum: 1, maximum: 2 ** 31 });
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
export const ForceQuery = Type.Object({ force: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

// iSCSI names: shape here; the full RFC 7143 §4.2.7 rule runs in the store and names the field too
export const IscsiName = Formatted('iscsi-name', { maxLength: 223 });
export const Label = Formatted('label', { maxLength: 64 });

export const ErrorBody = Type.Object({
  error: Type.String(),
  message: Type.String(),
  fields: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
});

export const Role = StringEnum(['admin', 'read-only']);
export const User = Type.Object({ id: Type.Integer(), username: Type.String(), role: Role, createdAt: Type.Integer() });
export const ApiToken = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  userId: Type.Integer(),
  createdAt: Type.Integer(),
  lastUsed: Type.Union([Type.Integer(), Type.Null()]),
});

export const Target = Type.Object({ id: Type.Integer(), iqn: Type.String(), alias: Type.Union([Type.String(), Type.Null()]) });
export const Portal = Type.Object({
  id: Type.Integer(),
  targetId: Type.Integer(),
  address: Type.String(),
  port: Type.Integer(),
  portalGroupId: Type.Integer(),
  // RFC 7143 §13.9: the TPGT SendTargets reports with this portal
  portalGroupTag: Type.Integer(),
});
// SPC-4 §5.16.2.4 access states, one per portal group (= ALUA target port group)
export const AluaState = StringEnum(['active-optimized', 'active-non-optimized', 'standby', 'unavailable']);
export const PortalGroup = Type.Object({ id: Type.Integer(), targetId: Type.Integer(), tag: Type.Integer(), aluaState: AluaState });
// the hypervisor a LUN is set up for (ui/src/presets.ts), or null; one enum so a bad value gets one clear error
export const LunPreset = Type.Unsafe<'esxi' | 'hyperv' | 'xenserver' | 'linux' | null>({ type: ['string', 'null'], enum: ['esxi', 'hyperv', 'xenserver', 'linux', null] });
export const Lun = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  backing: StringEnum(['file', 'lv']),
  path: Type.String(),
  sizeBytes: Type.Integer(),
  blockSize: IntEnum([512, 4096]),
  readOnly: Type.Boolean(),
  writeCache: StringEnum(['write-back', 'write-through']),
  serial: Type.String(),
  naaId: Type.String(),
  createdAt: Type.Integer(),
  preset: LunPreset,
});
export const LunMapping = Type.Object({ id: Type.Integer(), targetId: Type.Integer(), lun: Type.Integer(), lunId: Type.Integer() });
export const InitiatorGroup = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  initiators: Type.Array(Type.String()),
  networks: Type.Array(Type.String()),
});
export const TargetAcl = Type.Object({ id: Type.Integer(), targetId: Type.Integer(), groupId: Type.Integer() });
export const ChapInfo = Type.Object({
  id: Type.Integer(),
  targetId: Type.Union([Type.Integer(), Type.Null()]),
  username: Type.String(),
  mutualUsername: Type.Union([Type.String(), Type.Null()]),
});
export const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: Type.Integer(),
  actor: Type.String(),
  action: Type.String(),
  object: Type.String(),
  ip: Type.String(),
  detail: Type.Object({}, { additionalProperties: true }),
});
export const Settings = Type.Object({ hostname: Type.String(), baseIqn: Type.String(), iscsiPort: Type.Integer() });

/** Standard error responses every route may give, for the OpenAPI document. */
export function responses(ok: Record<number, TSchema>): Record<number, TSchema> {
  return { ...ok, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
}
