/**
 * GET /api/system: the appliance's own health at a glance (CPU, load, memory, uptime, network interfaces with
 * rates, disks with SMART health). Any signed-in role may read it. The numbers come from a SystemInfo that lives
 * as long as the app: its sampler keeps the readings that rates need, and slow probes are cached.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { responses, StringEnum } from '../schemas.ts';
import { SystemInfo, type SystemInfoOptions } from '../system/system-info.ts';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

const Interface = Type.Object({
  name: Type.String(),
  mac: Nullable(Type.String()),
  state: Type.String({ description: 'operational state as the kernel reports it (up, down, unknown, ...)' }),
  speedMbps: Nullable(Type.Number({ description: 'link speed in Mbit/s' })),
  mtu: Nullable(Type.Integer()),
  internal: Type.Boolean({ description: 'loopback' }),
  addresses: Type.Array(Type.Object({ address: Type.String(), family: StringEnum(['IPv4', 'IPv6']), cidr: Nullable(Type.String()) })),
  rxBytes: Type.Number({ description: 'bytes received since the interface came up' }),
  txBytes: Type.Number(),
  rxBytesPerSec: Type.Number({ description: 'over the last sample interval' }),
  txBytesPerSec: Type.Number(),
});

const Disk = Type.Object({
  name: Type.String(),
  device: Type.String(),
  sizeBytes: Type.Number(),
  model: Type.String(),
  serial: Type.String(),
  vendor: Type.String(),
  interfaceType: Type.String(),
  kind: Type.String({ description: 'HDD, SSD, NVMe or empty when unknown' }),
  removable: Type.Boolean(),
  health: StringEnum(['passed', 'failed', 'unknown'], { description: "SMART overall health (smartctl); 'unknown' without smartctl or SMART" }),
  temperatureC: Nullable(Type.Number()),
});

export const SystemReportSchema = Type.Object({
  hostname: Type.String(),
  os: Type.Object({ platform: Type.String(), distro: Type.String(), release: Type.String(), kernel: Type.String(), arch: Type.String() }),
  cpu: Type.Object({ model: Type.String(), cores: Type.Integer(), physicalCores: Type.Integer(), percent: Nullable(Type.Number({ description: 'busy share of all CPUs over the last sample interval, 0-100' })) }),
  load: Type.Object({ one: Type.Number(), five: Type.Number(), fifteen: Type.Number() }),
  memory: Type.Object({ totalBytes: Type.Number(), usedBytes: Type.Number(), availableBytes: Type.Number() }),
  uptimeSeconds: Type.Integer(),
  interfaces: Type.Array(Interface),
  disks: Type.Array(Disk),
  sampledAt: Nullable(Type.String({ description: 'when the rates were measured' })),
  sampleIntervalMs: Nullable(Type.Integer()),
});

export function systemRoutes(o: SystemInfoOptions = {}) {
  return async (app: FastifyInstance): Promise<void> => {
    const info = new SystemInfo(o);
    await info.start();
    app.addHook('onClose', async () => info.stop());
    app.get('/api/system', { schema: { tags: ['system'], summary: 'host, CPU, load, memory, uptime, network interfaces and disks', response: responses({ 200: SystemReportSchema }) } }, async () => info.report());
  };
}
