export * from './types.ts';
export { ScsiTargetDevice } from './device.ts';
export type { ScsiTargetDeviceOptions } from './device.ts';
export { ScsiError, SENSE_REASONS, buildSense, parseSense } from './sense.ts';
export type { SenseReason, ParsedSense } from './sense.ts';
