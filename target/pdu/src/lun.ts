/**
 * LUN field structure (SAM-5 §4.7). Only the first level is used by iSCSI targets: the top two bits of byte 0
 * select the addressing method; the other 6 bytes of a single-level LUN are zero.
 */

/** SAM-5 §4.7.2 address method codes (bits 7..6 of byte 0) */
const AddressMethod = { Peripheral: 0b00, Flat: 0b01 } as const;

const LEVEL_ONE_SHIFT = 48n;
const MAX_FLAT_LUN = 0x3fff;
const MAX_PERIPHERAL_LUN = 0xff;

/**
 * LUN number of a raw 8-byte LUN field, or undefined when it uses another addressing method, addresses a
 * bus other than 0 (peripheral addressing, SAM-5 §4.7.6) or has a second level.
 */
export function decodeLun(raw: bigint): number | undefined {
  const v = BigInt.asUintN(64, raw);
  // Second-to-fourth levels must be empty for a single-level LUN (SAM-5 §4.7.4)
  if ((v & 0xffff_ffff_ffffn) !== 0n) return undefined;
  const firstLevel = Number(v >> LEVEL_ONE_SHIFT);
  const method = firstLevel >>> 14;
  // SAM-5 §4.7.6: peripheral device addressing, byte 0 bits 5..0 = bus identifier (must be 0 for a plain LUN)
  if (method === AddressMethod.Peripheral) return (firstLevel & 0x3f00) === 0 ? firstLevel & 0xff : undefined;
  // SAM-5 §4.7.7: flat space addressing, 14-bit LUN
  if (method === AddressMethod.Flat) return firstLevel & MAX_FLAT_LUN;
  return undefined;
}

/** Raw LUN field for LUN `n`: peripheral addressing below 256 (what Linux and ESXi send), else flat space. */
export function encodeLun(n: number): bigint {
  if (!Number.isInteger(n) || n < 0 || n > MAX_FLAT_LUN) throw new RangeError(`LUN ${n} is out of range 0..16383`);
  const firstLevel = n <= MAX_PERIPHERAL_LUN ? n : (AddressMethod.Flat << 14) | n;
  return BigInt(firstLevel) << LEVEL_ONE_SHIFT;
}
