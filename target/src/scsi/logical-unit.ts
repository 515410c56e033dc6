/** One logical unit's state: its config, backstore, mode parameters and unit attentions. */
import type { Backstore } from '../backstore/types.ts';
import type { LunEntry } from './types.ts';
import { UnitAttentions } from './unit-attention.ts';
import type { SenseReason } from './sense.ts';
import { Reservations } from './reservations.ts';
import { PrStore } from './pr-store.ts';
import { SoftThreshold } from './provisioning-threshold.ts';

/** The changeable mode parameters (SPC-4 §7.5, SBC-4 §6.5); shared by every I_T nexus. */
export interface ModeState {
  /** Caching page WCE (SBC-4 §6.5.5): write-back when set. */
  writeCacheEnabled: boolean;
  /** Control page D_SENSE (SPC-4 §7.5.8): descriptor-format sense when set. */
  descriptorSense: boolean;
  /** Control page SWP (SPC-4 §7.5.8): software write protect. */
  softwareWriteProtect: boolean;
}

export const DEFAULT_VENDOR = 'OPENLUN ';
export const DEFAULT_PRODUCT = 'openlun disk';
export const DEFAULT_REVISION = '0001';

export class LogicalUnit {
  readonly unitAttentions = new UnitAttentions();
  readonly mode: ModeState;
  /** I_T nexuses holding a PREVENT ALLOW MEDIUM REMOVAL prevent (SBC-4 §5.13). */
  readonly preventingNexuses = new Set<string>();
  /** SCSI-2 and persistent reservations (reservations.ts); persistent state restored from prStatePath if APTPL. */
  readonly reservations = new Reservations();
  readonly prStore: PrStore | undefined;
  /**
   * PREEMPT AND ABORT (SPC-4 §5.13.11.4.4): the transport aborts the preempted nexuses' tasks. One listener per device
   * the LU is mapped through (a LU shared by several targets, shared-units.ts, has one per target, each with the LUN
   * number it has there).
   */
  readonly preemptAbortListeners = new Map<object, (nexusIds: string[]) => void>();
  /**
   * SBC-4 §4.7.3.8 soft threshold: sampled on writes (file free space relative to the LUN size) or fed through
   * ScsiTargetDevice.setPoolUsage. Inert while config.softThresholdPercent is unset (read at every sample).
   */
  readonly softThreshold: SoftThreshold;

  constructor(
    /** The LUN number of the first mapping (a shared LU may have other numbers in other targets; informational). */
    readonly lun: number,
    /** Replaced (not mutated) by ScsiTargetDevice.setLuns when the same LU is re-described. */
    public config: LunEntry,
  ) {
    this.mode = {
      writeCacheEnabled: config.writeCache === 'back',
      descriptorSense: false,
      softwareWriteProtect: false,
    };
    this.softThreshold = new SoftThreshold({
      percent: () => this.config.softThresholdPercent,
      // SBC-4 §4.7.3.8 (SITUA 0): the condition concerns the LU, so every I_T nexus hears of it
      onReached: () => this.unitAttentions.establish('THIN_PROVISIONING_SOFT_THRESHOLD_REACHED'),
      source: async () => {
        if (this.config.softThresholdPercent === undefined || !this.backstore.freeSpace) return undefined;
        const size = this.backstore.size();
        const free = await this.backstore.freeSpace();
        return free === undefined || size <= 0 ? undefined : free / size;
      },
    });
    this.prStore = config.prStatePath ? new PrStore(config.prStatePath) : undefined;
    const saved = this.prStore?.load();
    if (saved) {
      this.reservations.generation = saved.generation;
      this.reservations.registrations = saved.registrations;
      this.reservations.reservation = saved.reservation;
      this.reservations.aptpl = true;
    }
  }

  /** Abort the tasks of these I_T nexuses on this LU, in every target it is mapped through. */
  preemptAbort(nexusIds: string[]): void {
    for (const listener of this.preemptAbortListeners.values()) listener(nexusIds);
  }

  get backstore(): Backstore {
    return this.config.backstore;
  }

  get blockSize(): number {
    return this.config.blockSize;
  }

  /** Number of logical blocks (SBC-4 §4.5); a trailing partial block is not addressable. */
  blockCount(): bigint {
    return BigInt(Math.floor(this.backstore.size() / this.config.blockSize));
  }

  get vendor(): string {
    return this.config.vendor ?? DEFAULT_VENDOR;
  }
  get product(): string {
    return this.config.product ?? DEFAULT_PRODUCT;
  }
  get revision(): string {
    return this.config.revision ?? DEFAULT_REVISION;
  }

  /** Why a write must be refused, if it must (SBC-4 §4.13 write protection). */
  writeProtection(): SenseReason | undefined {
    if (this.config.readOnly || this.backstore.readOnly) return 'WRITE_PROTECTED';
    if (this.mode.softwareWriteProtect) return 'SOFTWARE_WRITE_PROTECTED';
    return undefined;
  }
}
