/**
 * ScsiTargetDevice: the LUN table of one iSCSI target and the single entry point for SCSI commands.
 * execute() runs the generic checks of SAM-5/SPC-4 in order — logical unit present, unit attention,
 * opcode/service action known, reserved bits and CONTROL byte clear — then the table's handler, and
 * turns a thrown ScsiError into CHECK CONDITION with fixed or descriptor sense per the LU's D_SENSE.
 */
import type { CommandContext, CommandSpec, TargetView } from './command.ts';
import type { TargetPortGroup, TargetPortGroupSource } from './alua.ts';
import { accessStateOf, accessStateRefusal, accessStatesChanged } from './alua.ts';
import { SERVICE_ACTION_MASK, hasServiceActions } from './command.ts';
import type { LogicalUnit } from './logical-unit.ts';
import { sharedLogicalUnits } from './shared-units.ts';
import type { LogicalUnitRegistry } from './shared-units.ts';
import { forgetCopyResults } from './copy-results.ts';
import { COMMANDS, OPCODES } from './opcodes.ts';
import { RESERVATION_ACCESS, ReservationConflict } from './reservations.ts';
import type { ReservationAccess } from './reservations.ts';
import { ScsiError, buildSense, invalidCdbField } from './sense.ts';
import type { SenseReason } from './sense.ts';
import type { CommandRecorder } from './stats.ts';
import type { LunEntry, ScsiRequest, ScsiResponse } from './types.ts';
import { ScsiStatus } from './types.ts';
import type { Nexus } from './types.ts';

export interface ScsiTargetDeviceOptions {
  targetName: string;
  /** The device owns these backstores from now on: it closes them on close() or when a LUN goes away. */
  luns: Map<number, LunEntry>;
  /** Where protocol violations and I/O failures are reported (one line each); default: silent. */
  log?: (message: string) => void;
  /** Per-LUN counters (stats.ts), called around every command; default: none. */
  stats?: CommandRecorder;
  /**
   * PREEMPT AND ABORT (SPC-4 §5.13.11.4.4): abort every task of these I_T nexuses on this LUN (the transport owns the
   * tasks). Called before the PR OUT command completes. Settable later through `device.onPreemptAbort`.
   */
  onPreemptAbort?: (nexusIds: string[], lun: number) => void;
  /**
   * Where LUs are shared with the other devices (targets) that map the same backing store (shared-units.ts);
   * default: the process-wide registry, so two targets of one process exporting one file are one LU.
   */
  registry?: LogicalUnitRegistry;
}

/** The opcode-table key of every command spec (ALUA state filtering names commands by key, alua.ts). */
const KEY_OF = new Map<CommandSpec, string>(
  (Object.keys(COMMANDS) as Array<keyof typeof COMMANDS>).map((k) => [COMMANDS[k], k]),
);

/** The conflict class of every command spec (reservations.ts RESERVATION_ACCESS, keyed by the opcode table). */
const ACCESS_OF = new Map<CommandSpec, ReservationAccess>(
  (Object.keys(COMMANDS) as Array<keyof typeof COMMANDS>).map((k) => [COMMANDS[k], RESERVATION_ACCESS[k]]),
);

/** SAM-5 §5.2 CONTROL byte: bits 5..0 (NACA, obsolete FLAG/LINK, reserved) must be zero here. */
const CONTROL_CHECKED_BITS = 0x3f;
const NACA = 0x04;

export class ScsiTargetDevice implements TargetView, TargetPortGroupSource {
  readonly targetName: string;
  readonly #lus = new Map<number, LogicalUnit>();
  /** The entries as given, per LUN: a shared LU's own config may carry another device's backstore. */
  readonly #given = new Map<number, LunEntry>();
  /** This device's PREEMPT AND ABORT listener on each LU it maps, per LUN. */
  readonly #listeners = new Map<number, object>();
  readonly #registry: LogicalUnitRegistry;
  readonly #log: (message: string) => void;
  readonly #stats: CommandRecorder | undefined;
  /** See ScsiTargetDeviceOptions.onPreemptAbort; the transport sets it. */
  onPreemptAbort: ((nexusIds: string[], lun: number) => void) | undefined;

  constructor(opts: ScsiTargetDeviceOptions) {
    this.targetName = opts.targetName;
    this.#stats = opts.stats;
    this.#log = opts.log ?? (() => {});
    this.onPreemptAbort = opts.onPreemptAbort;
    this.#registry = opts.registry ?? sharedLogicalUnits;
    for (const [lun, entry] of opts.luns) this.#map(lun, entry);
  }

  /**
   * Map a LUN: the LU of this backing store if another device (or LUN) maps it already, else a new one. A surplus
   * backstore for a shared LU is closed right away (the device owns what it was given).
   */
  #map(lun: number, entry: LunEntry): void {
    const { lu, duplicate } = this.#registry.acquire(lun, entry);
    if (lu.config.id !== entry.id) {
      // another target exports this backing store under another identity: one store is one LU (the first identity)
      this.#log(`${this.targetName} LUN ${lun}: ${entry.backstore.path} is already exported as LU ${lu.config.id}; it keeps that identity, not ${entry.id}`);
    }
    if (duplicate) {
      entry.backstore.close().catch((err: unknown) => this.#log(`closing the second handle on ${entry.backstore.path}: ${(err as Error).message}`));
    }
    const token = {};
    lu.preemptAbortListeners.set(token, (ids) => this.onPreemptAbort?.(ids, lun));
    this.#lus.set(lun, lu);
    this.#given.set(lun, entry);
    this.#listeners.set(lun, token);
  }

  /** Unmap a LUN; closes its backstore when no device maps the LU any more. */
  async #unmap(lu: LogicalUnit, token: object | undefined, flush: boolean, keepOpen?: ReadonlySet<unknown>): Promise<void> {
    if (token) lu.preemptAbortListeners.delete(token);
    if (!this.#registry.release(lu)) return;
    if (keepOpen?.has(lu.backstore)) return;
    if (flush) {
      try {
        await lu.backstore.flush();
      } catch (err) {
        this.#log(`flush of ${lu.backstore.path} at close failed: ${(err as Error).message}`);
      }
    }
    await lu.backstore.close();
  }

  #portGroups: readonly TargetPortGroup[] = [];

  /**
   * SPC-4 §5.16: the target port groups (one per iSCSI portal group) the transport serves this device through, with
   * their access states. A group whose state changed is an implicit ALUA transition: every I_T nexus of every LU
   * gets ASYMMETRIC ACCESS STATE CHANGED (SPC-4 §5.16.2.5), so hosts re-read REPORT TARGET PORT GROUPS.
   */
  setTargetPortGroups(groups: readonly TargetPortGroup[]): void {
    const changed = accessStatesChanged(this.#portGroups, groups);
    this.#portGroups = groups;
    if (changed) for (const lu of this.#lus.values()) lu.unitAttentions.establish('ASYMMETRIC_ACCESS_STATE_CHANGED');
  }

  /** Empty until the transport calls setTargetPortGroups (alua.ts then reports the command's own port). */
  targetPortGroups(): readonly TargetPortGroup[] {
    return this.#portGroups;
  }

  lunNumbers(): number[] {
    return [...this.#lus.keys()].sort((a, b) => a - b);
  }

  logicalUnit(lun: number): LogicalUnit | undefined {
    return this.#lus.get(lun);
  }

  hasLun(lun: number): boolean {
    return this.#lus.has(lun);
  }

  /**
   * Replace the LUN table. A LUN whose entry keeps the same id, backstore and block size keeps its state
   * (mode parameters, unit attentions, prevents); removed or
   * replaced backstores are closed. Every I_T nexus gets REPORTED LUNS DATA HAS CHANGED (SPC-4 §6.33).
   */
  async setLuns(luns: Map<number, LunEntry>): Promise<void> {
    const old = new Map(this.#lus);
    const kept = new Set<number>();
    for (const [lun, entry] of luns) {
      const prev = old.get(lun);
      const given = this.#given.get(lun);
      if (prev && given && given.id === entry.id && given.backstore === entry.backstore && given.blockSize === entry.blockSize) {
        // a shared LU keeps the backstore it runs on (entry's may be this device's closed duplicate)
        prev.config = entry.backstore === prev.backstore ? entry : { ...entry, backstore: prev.backstore };
        this.#given.set(lun, entry);
        kept.add(lun);
      }
    }
    // release what goes before mapping what comes (a store re-described with a new identity becomes a new LU),
    // without closing a backstore the new map still uses
    const reused = new Set([...luns.values()].map((e) => e.backstore));
    for (const [lun, lu] of old) {
      if (kept.has(lun)) continue;
      const token = this.#listeners.get(lun);
      this.#lus.delete(lun);
      this.#given.delete(lun);
      this.#listeners.delete(lun);
      await this.#unmap(lu, token, false, reused);
    }
    for (const [lun, entry] of luns) if (!kept.has(lun)) this.#map(lun, entry);
    for (const lu of this.#lus.values()) lu.unitAttentions.establish('REPORTED_LUNS_DATA_HAS_CHANGED');
  }

  /** Re-read a LUN's backstore size (online resize); every nexus gets CAPACITY DATA HAS CHANGED. */
  async refreshCapacity(lun: number): Promise<number> {
    const lu = this.#lus.get(lun);
    if (!lu) throw new Error(`LUN ${lun} is not mapped on ${this.targetName}`);
    const before = lu.backstore.size();
    const size = await lu.backstore.refreshSize();
    // SBC-4 §4.6: a change of capacity is announced to every I_T nexus; an unchanged one is not news
    if (size !== before) lu.unitAttentions.establish('CAPACITY_DATA_HAS_CHANGED');
    return size;
  }

  /**
   * Thin LV pool usage for a LUN backed by a block device (SBC-4 §4.7.3.8): `usedFraction` is the pool's data use
   * (lvs data_percent / 100). The LUN's softThresholdPercent then applies to the pool's free share. Returns true when
   * this report raised THIN PROVISIONING SOFT THRESHOLD REACHED.
   */
  setPoolUsage(lun: number, usedFraction: number): boolean {
    const lu = this.#lus.get(lun);
    if (!lu) throw new Error(`LUN ${lun} is not mapped on ${this.targetName}`);
    if (!(usedFraction >= 0 && usedFraction <= 1)) throw new RangeError(`pool usage must be a fraction in [0, 1], got ${usedFraction}`);
    return lu.softThreshold.observeFree(1 - usedFraction);
  }

  /** I_T nexus loss (SAM-5 §6.3.4): drop its prevent state; it comes back to I_T NEXUS LOSS OCCURRED. */
  nexusLost(nexusId: string): void {
    for (const lu of this.#lus.values()) {
      lu.preventingNexuses.delete(nexusId);
      forgetCopyResults(lu, nexusId); // SPC-4 §6.18.1: held copy results belong to the nexus
      lu.reservations.nexusLost(nexusId); // SPC-2 §5.5.1: the RESERVE goes; PR registrations stay (SPC-4 §5.13.1)
      if (lu.unitAttentions.knows(nexusId)) lu.unitAttentions.establishFor(nexusId, 'I_T_NEXUS_LOSS_OCCURRED');
    }
  }

  /**
   * LOGICAL UNIT RESET (SAM-5 §6.3.3 / §7.7): every I_T nexus gets BUS DEVICE RESET FUNCTION OCCURRED, the one the
   * reset came through included — a multipath host must learn of the reset on each of its paths (libiscsi's
   * MultipathIO.Reset checks every path, the resetting one too; LIO raises it for the resetting initiator as well).
   */
  logicalUnitReset(lun: number, _by: Nexus): void {
    const lu = this.#lus.get(lun);
    if (!lu) return;
    this.#resetLogicalUnit(lu, 'BUS_DEVICE_RESET_FUNCTION_OCCURRED', undefined);
  }

  /**
   * TARGET WARM RESET / TARGET COLD RESET (RFC 7143 §11.5.1; SAM-5 §6.3.2 hard reset): every LU is
   * reset. Warm: other nexuses get POWER ON, RESET, OR BUS DEVICE RESET OCCURRED (29h/00h). Cold is a
   * power-on as far as the initiators can tell (every connection drops): POWER ON OCCURRED (29h/01h)
   * for every nexus.
   */
  targetReset(kind: 'warm' | 'cold', by: Nexus): void {
    for (const lu of this.#lus.values()) {
      if (kind === 'warm') this.#resetLogicalUnit(lu, 'POWER_ON_RESET_OCCURRED', by.id);
      else this.#resetLogicalUnit(lu, 'POWER_ON_OCCURRED', undefined);
    }
  }

  #resetLogicalUnit(lu: LogicalUnit, reason: SenseReason, except: string | undefined): void {
    // SBC-4 §5.13: a reset releases every PREVENT; SPC-4 §7.5.2: current mode values revert to the
    // defaults (nothing is saved).
    lu.preventingNexuses.clear();
    lu.reservations.releaseScsi2(); // SPC-2 §5.5.1: resets release RESERVE; persistent reservations survive them
    lu.mode.descriptorSense = false;
    lu.mode.softwareWriteProtect = false;
    lu.mode.writeCacheEnabled = lu.config.writeCache === 'back';
    lu.unitAttentions.establish(reason, except);
  }

  async close(): Promise<void> {
    const mapped = [...this.#lus];
    const tokens = new Map(this.#listeners);
    this.#lus.clear();
    this.#given.clear();
    this.#listeners.clear();
    for (const [lun, lu] of mapped) await this.#unmap(lu, tokens.get(lun), true);
  }

  async execute(req: ScsiRequest): Promise<ScsiResponse> {
    const stats = this.#stats;
    if (!stats) return this.#execute(req);
    const started = performance.now();
    stats.begin(req.lun);
    const res = await this.#execute(req);
    stats.end(req.lun, req.cdb.length > 0 ? req.cdb[0]! : 0, res, started);
    return res;
  }

  async #execute(req: ScsiRequest): Promise<ScsiResponse> {
    const lu = req.lun === undefined ? undefined : this.#lus.get(req.lun);
    const ctx: CommandContext = { req, cdb: req.cdb, nexus: req.nexus, lu, target: this };
    let spec: CommandSpec | undefined;
    try {
      spec = this.#lookup(req.cdb);
      if (!lu && !spec?.lunOptional) throw new ScsiError('LOGICAL_UNIT_NOT_SUPPORTED'); // SPC-4 §4.6.4
      // SPEC_I_PT may only name I_T nexuses the LU knows (SPC-4 §5.13.7), and UAs must reach ALL_TG_PT registrants.
      if (lu && !lu.reservations.knownNexuses.has(req.nexus.id)) lu.reservations.knownNexuses.set(req.nexus.id, req.nexus);
      if (lu && !spec?.unitAttentionExempt) {
        const ua = lu.unitAttentions.take(req.nexus.id);
        if (ua) throw new ScsiError(ua); // SAM-5 §5.14.1
      }
      if (!spec) throw this.#unsupported(req.cdb);
      // SPC-4 §5.16.2.4.4/5: a port in standby or unavailable state serves only a few commands (alua.ts)
      if (lu && this.#portGroups.length > 0) {
        const refusal = accessStateRefusal(accessStateOf(this.#portGroups, req.nexus), KEY_OF.get(spec));
        if (refusal) throw new ScsiError(refusal);
      }
      if (lu) {
        // SPC-2 §5.5.1 / SPC-4 §5.13.1 Table 66; an unclassified command is treated as a write (the safe side).
        if (lu.reservations.conflicts(req.nexus, ACCESS_OF.get(spec) ?? 'write')) throw new ReservationConflict(spec.name);
      }
      checkCdb(req.cdb, spec, hasServiceActions(OPCODES.get(req.cdb[0]!)!));
      const result = await spec.handler(ctx);
      // SBC-4 §4.7.3.8: only writes consume provisioning resources; the threshold rate-limits its own sampling
      if (lu && spec.dataDirection === 'out') lu.softThreshold.noteWrite();
      const res: ScsiResponse = { status: result.status ?? ScsiStatus.GOOD };
      if (result.data) res.data = result.data;
      const dataOutLength = result.dataOutLength ?? ctx.dataOutLength;
      if (dataOutLength !== undefined) res.dataOutLength = dataOutLength;
      return res;
    } catch (err) {
      return this.#failure(err, ctx, spec);
    }
  }

  /** The CommandSpec for a CDB, or undefined when the opcode or service action is not supported. */
  #lookup(cdb: Buffer): CommandSpec | undefined {
    if (cdb.length === 0) return undefined;
    const slot = OPCODES.get(cdb[0]!);
    if (!slot) return undefined;
    if (!hasServiceActions(slot)) return slot;
    return cdb.length > 1 ? slot.serviceActions[cdb[1]! & SERVICE_ACTION_MASK] : undefined;
  }

  #unsupported(cdb: Buffer): ScsiError {
    const slot = cdb.length > 0 ? OPCODES.get(cdb[0]!) : undefined;
    // SPC-4 §4.2.5.2: an unsupported service action is an invalid field (byte 1, SERVICE ACTION).
    if (slot && hasServiceActions(slot)) return invalidCdbField(1, 4);
    return new ScsiError('INVALID_COMMAND_OPERATION_CODE');
  }

  #failure(err: unknown, ctx: CommandContext, spec: CommandSpec | undefined): ScsiResponse {
    const withDataOut = (r: ScsiResponse): ScsiResponse => {
      if (ctx.dataOutLength !== undefined) r.dataOutLength = ctx.dataOutLength;
      return r;
    };
    if (ctx.req.isAborted()) return withDataOut({ status: ScsiStatus.TASK_ABORTED });
    if (err instanceof ReservationConflict) return withDataOut({ status: ScsiStatus.RESERVATION_CONFLICT });
    const descriptor = ctx.lu?.mode.descriptorSense ?? false;
    if (err instanceof ScsiError) {
      return withDataOut({
        status: ScsiStatus.CHECK_CONDITION,
        sense: buildSense(err.reason, err.detail, descriptor),
      });
    }
    // Anything else is the backstore failing under a valid command: report a medium error, log why.
    const reason: SenseReason =
      spec?.dataDirection === 'in' ? 'UNRECOVERED_READ_ERROR' : spec?.dataDirection === 'out' ? 'WRITE_ERROR' : 'INTERNAL_TARGET_FAILURE';
    this.#log(
      `${spec?.name ?? `opcode 0x${ctx.cdb[0]?.toString(16)}`} on ${this.targetName} LUN ${ctx.req.lun} failed: ${(err as Error)?.message ?? String(err)}`,
    );
    return withDataOut({ status: ScsiStatus.CHECK_CONDITION, sense: buildSense(reason, {}, descriptor) });
  }
}

function highestBit(v: number): number {
  return 31 - Math.clz32(v);
}

/**
 * SPC-4 §4.2.5.x / SAM-5 §5.2: a CDB shorter than the command, a reserved bit set (any bit the usage
 * mask leaves clear), or NACA/LINK in the CONTROL byte → INVALID FIELD IN CDB pointing at it.
 */
export function checkCdb(cdb: Buffer, spec: CommandSpec, serviceAction: boolean): void {
  const n = spec.cdbLength;
  if (cdb.length < n) throw invalidCdbField(cdb.length);
  for (let i = 1; i < n - 1; i++) {
    const allowed = spec.usage[i]! | (serviceAction && i === 1 ? SERVICE_ACTION_MASK : 0);
    const bad = cdb[i]! & ~allowed & 0xff;
    if (bad) throw invalidCdbField(i, highestBit(bad));
  }
  const control = cdb[n - 1]! & CONTROL_CHECKED_BITS;
  if (control) throw invalidCdbField(n - 1, control & NACA ? 2 : highestBit(control));
}
