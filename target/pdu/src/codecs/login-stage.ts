import { FINAL_BIT, bit } from '../bhs.ts';

// RFC 7143 §11.12.1–§11.12.4 (shared by Login Response, §11.13): byte 1 |T|C|.|.|CSG|NSG|
const TRANSIT = FINAL_BIT;
const CONTINUE = 0x40;
const CSG_SHIFT = 2;
const STAGE_MASK = 0x03;

export interface LoginStage {
  transit: boolean;
  continue: boolean;
  csg: number;
  nsg: number;
}

export function encodeLoginStage(s: LoginStage): number {
  return (
    bit(s.transit, TRANSIT) | bit(s.continue, CONTINUE) | ((s.csg & STAGE_MASK) << CSG_SHIFT) | (s.nsg & STAGE_MASK)
  );
}

export function decodeLoginStage(flags: number): LoginStage {
  return {
    transit: (flags & TRANSIT) !== 0,
    continue: (flags & CONTINUE) !== 0,
    csg: (flags >>> CSG_SHIFT) & STAGE_MASK,
    nsg: flags & STAGE_MASK,
  };
}
