/**
 * MODE SENSE / MODE SELECT (SPC-4 §6.11-6.14) over a table of mode pages (SPC-4 §7.5, SBC-4 §6.5).
 * Every page has current / changeable / default values; saved values are not supported.
 */
import type { CommandContext, CommandResult } from './command.ts';
import type { LogicalUnit, ModeState } from './logical-unit.ts';
import { truncate } from './cdb.ts';
import { ScsiError, invalidCdbField, invalidParameterField } from './sense.ts';

interface ModePageDef {
  code: number;
  name: string;
  /** Whole page length including the 2-byte header. */
  length: number;
  /** Page bytes for a mode state (current or default). */
  build(state: ModeState): Buffer;
  /** Changeable mask bytes (SPC-4 §6.11: PC 01b). */
  changeable: readonly number[];
  /** Fold an accepted MODE SELECT page into the state. */
  apply(page: Buffer, state: ModeState): void;
}

function page(code: number, length: number, fill: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(length);
  b[0] = code; // PS 0: the page cannot be saved
  b[1] = length - 2;
  fill(b);
  return b;
}

function mask(length: number, bits: Record<number, number>): number[] {
  const m = new Array<number>(length).fill(0);
  for (const [at, v] of Object.entries(bits)) m[Number(at)] = v;
  return m;
}

const WCE = 0x04; // SBC-4 §6.5.5 caching page byte 2 bit 2
const D_SENSE = 0x04; // SPC-4 §7.5.8 control page byte 2 bit 2
const SWP = 0x08; // SPC-4 §7.5.8 control page byte 4 bit 3

export const MODE_PAGES: readonly ModePageDef[] = [
  {
    code: 0x08,
    name: 'caching', // SBC-4 §6.5.5
    length: 20,
    build: (s) => page(0x08, 20, (b) => (b[2] = s.writeCacheEnabled ? WCE : 0)), // RCD 0: read cache on
    changeable: mask(20, { 2: WCE }),
    apply: (p, s) => (s.writeCacheEnabled = (p[2]! & WCE) !== 0),
  },
  {
    code: 0x0a,
    name: 'control', // SPC-4 §7.5.8
    length: 12,
    build: (s) =>
      page(0x0a, 12, (b) => {
        b[2] = s.descriptorSense ? D_SENSE : 0; // TST 000b: one task set for all I_T nexuses
        b[3] = 0x10; // QUEUE ALGORITHM MODIFIER 1: unrestricted reordering; QERR 00b
        b[4] = s.softwareWriteProtect ? SWP : 0;
        b.writeUInt16BE(0xffff, 8); // BUSY TIMEOUT PERIOD: unlimited
      }),
    changeable: mask(12, { 2: D_SENSE, 4: SWP }),
    apply: (p, s) => {
      s.descriptorSense = (p[2]! & D_SENSE) !== 0;
      s.softwareWriteProtect = (p[4]! & SWP) !== 0;
    },
  },
  {
    code: 0x1c,
    name: 'informational exceptions control', // SPC-4 §7.5.11
    length: 12,
    build: () => page(0x1c, 12, (b) => (b[2] = 0x08)), // DEXCPT: no informational exceptions reported
    changeable: mask(12, {}),
    apply: () => {},
  },
];

const ALL_PAGES = 0x3f;
const SUBPAGE_NONE = 0x00;
const SUBPAGE_ALL = 0xff;
const PageControl = { CURRENT: 0, CHANGEABLE: 1, DEFAULT: 2, SAVED: 3 } as const;

function defaultState(lu: LogicalUnit): ModeState {
  return { writeCacheEnabled: lu.config.writeCache === 'back', descriptorSense: false, softwareWriteProtect: false };
}

function blockDescriptor(lu: LogicalUnit, long: boolean): Buffer {
  const blocks = lu.blockCount();
  if (long) {
    // SBC-4 §6.4.2.3 long LBA block descriptor
    const d = Buffer.alloc(16);
    d.writeBigUInt64BE(blocks, 0);
    d.writeUInt32BE(lu.blockSize, 12);
    return d;
  }
  // SBC-4 §6.4.2.2 short block descriptor: FFFFFFFFh when the count does not fit
  const d = Buffer.alloc(8);
  d.writeUInt32BE(blocks > 0xffffffffn ? 0xffffffff : Number(blocks), 0);
  d.writeUIntBE(lu.blockSize, 5, 3);
  return d;
}

/** SBC-4 §6.4.1 device-specific parameter: WP (bit 7), DPOFUA (bit 4). */
function deviceSpecificParameter(lu: LogicalUnit): number {
  return (lu.writeProtection() ? 0x80 : 0) | 0x10;
}

export function modeSense(ctx: CommandContext, ten: boolean): CommandResult {
  const { cdb } = ctx;
  const lu = ctx.lu!;
  const dbd = (cdb[1]! & 0x08) !== 0;
  const llbaa = ten && (cdb[1]! & 0x10) !== 0;
  const pc = cdb[2]! >> 6;
  const pageCode = cdb[2]! & 0x3f;
  const subpage = cdb[3]!;
  const allocLength = ten ? cdb.readUInt16BE(7) : cdb[4]!;

  if (pc === PageControl.SAVED) {
    throw new ScsiError('SAVING_PARAMETERS_NOT_SUPPORTED', { fieldPointer: { cd: true, byte: 2, bit: 7 } });
  }
  if (subpage !== SUBPAGE_NONE && subpage !== SUBPAGE_ALL) throw invalidCdbField(3);
  const defs = pageCode === ALL_PAGES ? MODE_PAGES : MODE_PAGES.filter((p) => p.code === pageCode);
  if (defs.length === 0) throw invalidCdbField(2, 5);

  const state = pc === PageControl.DEFAULT ? defaultState(lu) : lu.mode;
  const pages = defs.map((d) => (pc === PageControl.CHANGEABLE ? changeablePage(d) : d.build(state)));
  const descriptors = dbd ? Buffer.alloc(0) : blockDescriptor(lu, llbaa);

  let header: Buffer;
  const bodyLength = descriptors.length + pages.reduce((n, p) => n + p.length, 0);
  if (ten) {
    header = Buffer.alloc(8);
    header.writeUInt16BE(6 + bodyLength, 0); // MODE DATA LENGTH excludes itself
    header[3] = deviceSpecificParameter(lu);
    header[4] = llbaa && !dbd ? 0x01 : 0; // LONGLBA
    header.writeUInt16BE(descriptors.length, 6);
  } else {
    header = Buffer.alloc(4);
    header[0] = Math.min(255, 3 + bodyLength);
    header[2] = deviceSpecificParameter(lu);
    header[3] = descriptors.length;
  }
  return { data: truncate(Buffer.concat([header, descriptors, ...pages]), allocLength) };
}

function changeablePage(d: ModePageDef): Buffer {
  const b = Buffer.from(d.changeable);
  b[0] = d.code;
  b[1] = d.length - 2;
  return b;
}

function highestBit(v: number): number {
  return 31 - Math.clz32(v);
}

export async function modeSelect(ctx: CommandContext, ten: boolean): Promise<CommandResult> {
  const { cdb, req } = ctx;
  const lu = ctx.lu!;
  const pf = (cdb[1]! & 0x10) !== 0;
  const sp = (cdb[1]! & 0x01) !== 0;
  const paramLength = ten ? cdb.readUInt16BE(7) : cdb[4]!;
  ctx.dataOutLength = paramLength;
  // SPC-4 §6.9: SP=1 asks to save pages we cannot save; PF=0 would mean vendor-specific page format.
  if (sp) throw invalidCdbField(1, 0);
  if (!pf) throw invalidCdbField(1, 4);
  if (paramLength === 0) return {};

  const data = await req.readDataOut(paramLength);
  if (data.length < paramLength) throw new ScsiError('INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT');
  const headerLength = ten ? 8 : 4;
  if (data.length < headerLength) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
  const bdLength = ten ? data.readUInt16BE(6) : data[3]!;
  const longLba = ten && (data[4]! & 0x01) !== 0;
  const descSize = longLba ? 16 : 8;
  if (bdLength % descSize !== 0) throw invalidParameterField(ten ? 6 : 3);
  if (headerLength + bdLength > data.length) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
  for (let o = headerLength; o < headerLength + bdLength; o += descSize) {
    // We cannot reformat: a block descriptor may only restate the current block length.
    const lenAt = longLba ? o + 12 : o + 5;
    const blockLength = longLba ? data.readUInt32BE(lenAt) : data.readUIntBE(lenAt, 3);
    if (blockLength !== lu.blockSize) throw invalidParameterField(lenAt);
  }

  const next: ModeState = { ...lu.mode };
  let o = headerLength + bdLength;
  while (o < data.length) {
    if (o + 2 > data.length) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
    const b0 = data[o]!;
    if (b0 & 0x80) throw invalidParameterField(o, 7); // PS is reserved in MODE SELECT (SPC-4 §7.5.7)
    if (b0 & 0x40) throw invalidParameterField(o, 6); // SPF: we have no subpages
    const def = MODE_PAGES.find((p) => p.code === (b0 & 0x3f));
    if (!def) throw invalidParameterField(o, 5);
    const pageLength = data[o + 1]! + 2;
    if (pageLength !== def.length) throw invalidParameterField(o + 1);
    if (o + pageLength > data.length) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
    const incoming = data.subarray(o, o + pageLength);
    const current = def.build(lu.mode);
    // SPC-4 §6.9: a bit that is not changeable must be sent with its current value.
    for (let i = 2; i < pageLength; i++) {
      const wrong = (incoming[i]! ^ current[i]!) & ~def.changeable[i]!;
      if (wrong) throw invalidParameterField(o + i, highestBit(wrong));
    }
    def.apply(incoming, next);
    o += pageLength;
  }

  const changed = (Object.keys(next) as (keyof ModeState)[]).some((k) => next[k] !== lu.mode[k]);
  if (!changed) return {};
  const losingWriteBack = lu.mode.writeCacheEnabled && !next.writeCacheEnabled;
  if (losingWriteBack) await lu.backstore.flush(); // what the cache held must be durable once WCE is off
  Object.assign(lu.mode, next);
  // SPC-4 §6.9 / SAM-5 §5.14: other I_T nexuses learn of the change through a unit attention.
  lu.unitAttentions.establish('MODE_PARAMETERS_CHANGED', ctx.nexus.id);
  return {};
}
