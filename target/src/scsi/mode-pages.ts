/**
 * MODE SENSE / MODE SELECT (SPC-4 §6.11-6.14) over a table of mode pages (SPC-4 §7.5, SBC-4 §6.5).
 * Every page has current / changeable / default values; saved values are not supported.
 */
import type { CommandContext, CommandResult } from './command.ts';
import type { LogicalUnit, ModeState } from './logical-unit.ts';
import { truncate } from './cdb.ts';
import { ScsiError, invalidCdbField, invalidParameterField } from './sense.ts';
import { lbpThresholdDescriptor } from './provisioning-mode-page.ts';

interface ModePageDef {
  code: number;
  /** SPC-4 §7.5.7: 0 for a page_0 format page; otherwise the sub_page format (SPF 1, 4-byte header). */
  subpage: number;
  name: string;
  /** Whole page length including the header (2 bytes page_0, 4 bytes sub_page). */
  length: number;
  /** Page bytes for a mode state (current or default) of this LU. */
  build(state: ModeState, lu: LogicalUnit): Buffer;
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

const SPF = 0x40; // SPC-4 §7.5.7: sub_page format

/** SPC-4 §7.5.7 Table 452: a sub_page format page (SPF 1, SUBPAGE CODE, two-byte PAGE LENGTH). */
function subPage(code: number, subpage: number, length: number, fill: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(length);
  b[0] = SPF | code;
  b[1] = subpage;
  b.writeUInt16BE(length - 4, 2);
  fill(b);
  return b;
}

/** SBC-4 §6.5.8: one threshold descriptor (the soft threshold) after the 16-byte page head. */
const LBP_PAGE_LENGTH = 16 + 8;

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
    subpage: 0,
    name: 'caching', // SBC-4 §6.5.5
    length: 20,
    build: (s) => page(0x08, 20, (b) => (b[2] = s.writeCacheEnabled ? WCE : 0)), // RCD 0: read cache on
    changeable: mask(20, { 2: WCE }),
    apply: (p, s) => (s.writeCacheEnabled = (p[2]! & WCE) !== 0),
  },
  {
    code: 0x0a,
    subpage: 0,
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
    subpage: 0,
    name: 'informational exceptions control', // SPC-4 §7.5.11
    length: 12,
    build: () => page(0x1c, 12, (b) => (b[2] = 0x08)), // DEXCPT: no informational exceptions reported
    changeable: mask(12, {}),
    apply: () => {},
  },
  {
    // SBC-4 §6.5.8 Logical Block Provisioning: the soft threshold of --soft-threshold (provisioning-mode-page.ts).
    // SITUA 0: the UA goes to every I_T nexus (provisioning-threshold.ts). Nothing is changeable: the threshold is
    // the appliance's setting, not an initiator's.
    code: 0x1c,
    subpage: 0x02,
    name: 'logical block provisioning',
    length: LBP_PAGE_LENGTH,
    build: (_s, lu) => subPage(0x1c, 0x02, LBP_PAGE_LENGTH, (b) => lbpThresholdDescriptor(lu).copy(b, 16)),
    changeable: mask(LBP_PAGE_LENGTH, {}),
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
  const defs = selectPages(pageCode, subpage);
  if (defs.length === 0) {
    // SPC-4 §6.11: a page or subpage the LU does not have → INVALID FIELD IN CDB at the field that names it
    if (pageCode === ALL_PAGES || MODE_PAGES.some((p) => p.code === pageCode)) throw invalidCdbField(3);
    throw invalidCdbField(2, 5);
  }

  const state = pc === PageControl.DEFAULT ? defaultState(lu) : lu.mode;
  const pages = defs.map((d) => (pc === PageControl.CHANGEABLE ? changeablePage(d) : d.build(state, lu)));
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

/**
 * SPC-4 §6.11 Table 97 (PAGE CODE / SUBPAGE CODE): 3Fh/00h every page_0 page; 3Fh/FFh every page and subpage;
 * xxh/FFh page xxh and all its subpages; xxh/yyh that one page. Ascending by page, then subpage.
 */
export function selectPages(pageCode: number, subpage: number): ModePageDef[] {
  return MODE_PAGES.filter((p) => {
    if (pageCode === ALL_PAGES) return subpage === SUBPAGE_ALL || (subpage === SUBPAGE_NONE && p.subpage === 0);
    if (p.code !== pageCode) return false;
    return subpage === SUBPAGE_ALL || p.subpage === subpage;
  });
}

function changeablePage(d: ModePageDef): Buffer {
  const b = Buffer.from(d.changeable);
  if (d.subpage === 0) {
    b[0] = d.code;
    b[1] = d.length - 2;
  } else {
    b[0] = SPF | d.code;
    b[1] = d.subpage;
    b.writeUInt16BE(d.length - 4, 2);
  }
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
    const spf = (b0 & SPF) !== 0;
    if (spf && o + 4 > data.length) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
    const subpage = spf ? data[o + 1]! : 0;
    const def = MODE_PAGES.find((p) => p.code === (b0 & 0x3f) && p.subpage === subpage && (p.subpage !== 0) === spf);
    if (!def) throw invalidParameterField(spf && MODE_PAGES.some((p) => p.code === (b0 & 0x3f)) ? o + 1 : o, spf ? undefined : 5);
    const headLength = spf ? 4 : 2;
    const pageLength = (spf ? data.readUInt16BE(o + 2) : data[o + 1]!) + headLength;
    if (pageLength !== def.length) throw invalidParameterField(spf ? o + 2 : o + 1);
    if (o + pageLength > data.length) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
    const incoming = data.subarray(o, o + pageLength);
    const current = def.build(lu.mode, lu);
    // SPC-4 §6.9: a bit that is not changeable must be sent with its current value.
    for (let i = headLength; i < pageLength; i++) {
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
