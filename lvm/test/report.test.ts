// Parsers against lvm2's real JSON output, recorded in the Debian 13 guest (lvm2 2.03.31, util-linux 2.41)
// by lvm/scripts/record-fixtures.ts with the exact argv the code uses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLsblk, parseWipefs, vgOfDmName } from '../src/disks.ts';
import { ReportParseError } from '../src/errors.ts';
import { LV_FIELDS } from '../src/fields.ts';
import { parseLvmVersion, parseLvs, parsePvs, parseVgs, reportArgv, reportFormatFor, reportLogErrors } from '../src/report.ts';
import { usageOf } from '../src/thin.ts';
import { fixture } from './helpers/fake-bin.ts';

describe('lvm2 report argv', () => {
  it('matches the argv the fixtures were recorded with', () => {
    assert.deepEqual(reportArgv('lv', 'json_std'), fixture('lvs.json').argv);
    assert.deepEqual(reportArgv('pv', 'json_std'), fixture('pvs.json').argv);
    assert.deepEqual(reportArgv('vg', 'json_std'), fixture('vgs.json').argv);
    assert.deepEqual(reportArgv('lv', 'json_std', ['vg0/pool']), fixture('lvs-vg0-pool.json').argv);
  });
  it('asks old lvm2 (json only) for --binary flags', () => {
    assert.deepEqual(reportArgv('vg', 'json').slice(0, 4), ['vgs', '--reportformat', 'json', '--binary']);
  });
});

describe('pvs / vgs / lvs parsers (json_std)', () => {
  it('parses pvs', () => {
    const pvs = parsePvs(fixture('pvs.json').stdout);
    assert.equal(pvs.length, 2);
    assert.deepEqual(pvs[0], {
      name: '/dev/vdb', uuid: '5wJejL-lX1y-Od1c-eUOZ-jgKz-I3Ac-s9AFYc', vg: 'vg0', format: 'lvm2', size: 532676608,
      free: 293601280, devSize: 536870912, attr: 'a--', extentCount: 127, allocatedExtents: 57, allocatable: true, missing: false,
    });
    assert.deepEqual(parsePvs(fixture('pvs-empty.json').stdout), []);
  });

  it('parses vgs', () => {
    const [vg] = parseVgs(fixture('vgs.json').stdout);
    assert.ok(vg);
    assert.equal(vg.name, 'vg0');
    assert.equal(vg.size, 1065353216);
    assert.equal(vg.free, 822083584);
    assert.equal(vg.extentSize, 4 * 2 ** 20);
    assert.equal(vg.extentCount * vg.extentSize, vg.size);
    assert.equal(vg.freeExtents * vg.extentSize, vg.free);
    assert.deepEqual([vg.pvCount, vg.lvCount, vg.snapCount, vg.missingPvCount, vg.partial], [2, 5, 1, 0, false]);
  });

  it('parses lvs: kinds, pools, origins, percentages, flags', () => {
    const lvs = parseLvs(fixture('lvs.json').stdout);
    const by = Object.fromEntries(lvs.map((l) => [l.name, l]));
    assert.deepEqual(Object.keys(by).sort(), ['lin', 'lin_snap', 'pool', 'thin1', 'thin1_snap']);
    assert.deepEqual([by.lin!.kind, by.lin!.size, by.lin!.open, by.lin!.active, by.lin!.dataPercent], ['linear', 67108864, true, true, null]);
    assert.equal(by.lin!.path, '/dev/vg0/lin');
    assert.deepEqual([by.lin_snap!.kind, by.lin_snap!.origin, by.lin_snap!.dataPercent], ['snapshot', 'lin', 25.54]);
    assert.deepEqual([by.pool!.kind, by.pool!.path, by.pool!.dataPercent, by.pool!.metadataPercent, by.pool!.metadataSize, by.pool!.whenFull],
      ['thin-pool', null, 15.62, 11.13, 4194304, 'queue']);
    assert.deepEqual([by.thin1!.kind, by.thin1!.pool, by.thin1!.size], ['thin', 'pool', 2 ** 30]);
    // An inactive thin snapshot: lv_device_open is -1 (undefined), data_percent null.
    assert.deepEqual([by.thin1_snap!.kind, by.thin1_snap!.origin, by.thin1_snap!.active, by.thin1_snap!.open, by.thin1_snap!.dataPercent],
      ['thin-snapshot', 'thin1', false, false, null]);
    assert.deepEqual(by.thin1!.tags, []);
  });

  it('parses lvs -a during a merge: hidden LVs and the merging flag', () => {
    const lvs = parseLvs(fixture('lvs-merging.json').stdout);
    const snap = lvs.find((l) => l.name === 'lin_snap');
    assert.ok(snap);
    assert.deepEqual([snap.hidden, snap.merging, snap.kind, snap.attr[0]], [true, true, 'internal', 'S']);
    assert.equal(lvs.find((l) => l.name === 'lin')!.merging, true);
    assert.ok(lvs.some((l) => l.name === 'pool_tdata' && l.hidden));
  });

  it('computes pool usage and overcommit from lvs', () => {
    const lvs = parseLvs(fixture('lvs.json').stdout);
    const u = usageOf(lvs.find((l) => l.kind === 'thin-pool')!, lvs);
    assert.deepEqual(u.thinVolumes, ['thin1', 'thin1_snap']);
    assert.equal(u.virtualSize, 2 * 2 ** 30);
    assert.equal(u.overcommit, 16);
    assert.equal(u.usedBytes, Math.round(134217728 * 0.1562));
  });

  it('parses the same rows from old lvm2 (--reportformat json --binary: all strings)', () => {
    const row = { lv_name: 'lin', vg_name: 'vg0', lv_uuid: 'u', lv_path: '/dev/vg0/lin', lv_dm_path: '/dev/mapper/vg0-lin',
      lv_attr: '-wi-a-----', lv_size: '67108864', segtype: 'linear', pool_lv: '', origin: '', data_percent: '',
      metadata_percent: '', lv_metadata_size: '', lv_active: '1', lv_device_open: '0', lv_merging: '0', lv_when_full: '',
      lv_time: '2026-11-28 01:35:19 +0000', lv_tags: 'a,b', lv_health_status: '' };
    assert.deepEqual(Object.keys(row), [...LV_FIELDS]);
    const [lv] = parseLvs(JSON.stringify({ report: [{ lv: [row] }] }));
    assert.deepEqual([lv!.size, lv!.active, lv!.open, lv!.dataPercent, lv!.tags, lv!.kind], [67108864, true, false, null, ['a', 'b'], 'linear']);
  });

  it('rejects what is not a report, and rows missing a field', () => {
    assert.throws(() => parsePvs('  Invalid argument'), ReportParseError);
    assert.throws(() => parseLvs('{"report":[{"lv":[{"lv_name":"x"}]}]}'), /lacks field/);
    assert.throws(() => parseVgs('{"log":[]}'), /no "report"/);
    assert.throws(() => parsePvs('{"report":[{"pv":[{"pv_name":"a","pv_uuid":"u","vg_name":"","pv_fmt":"lvm2","pv_size":"1.5","pv_free":"0","dev_size":"0","pv_attr":"---","pv_pe_count":0,"pv_pe_alloc_count":0}]}]}'), /not an integer/);
  });

  it("reads lvm2's errors from the report log (JSON reports don't use stderr)", () => {
    const r = fixture('err-lvs-novg.json');
    assert.equal(r.stderr, '');
    assert.deepEqual(reportLogErrors(r.stdout), ['Volume group "nosuchvg" not found', 'Cannot process volume group nosuchvg']);
  });

  it('reads the lvm2 version and picks the report format', () => {
    assert.deepEqual(parseLvmVersion(fixture('lvm-version.json').stdout), [2, 3, 31]);
    assert.equal(reportFormatFor([2, 3, 31]), 'json_std');
    assert.equal(reportFormatFor([2, 3, 17]), 'json_std');
    assert.equal(reportFormatFor([2, 3, 16]), 'json');
    assert.equal(reportFormatFor([2, 2, 187]), 'json');
  });
});

describe('disk inventory (lsblk -J -b -O)', () => {
  const disks = parseLsblk(JSON.parse(JSON.stringify(fixture('lsblk.json').stdout)));
  const by = Object.fromEntries(disks.map((d) => [d.name, d]));

  it('lists the disks with size, serial, rotational, transport', () => {
    assert.deepEqual(disks.map((d) => d.name), ['vda', 'vdb', 'vdc', 'vdd', 'vde']);
    assert.deepEqual([by.vdb!.size, by.vdb!.serial, by.vdb!.rotational, by.vdb!.transport, by.vdb!.path],
      [536870912, 'openlun-disk0', true, 'virtio', '/dev/vdb']);
  });

  it('never offers the system disk', () => {
    assert.equal(by.vda!.system, true);
    assert.equal(by.vda!.available, false);
    assert.match(by.vda!.inUse.join(), /system disk \(mounted at \/\)/);
    assert.equal(disks.filter((d) => d.system).length, 1);
  });

  it('marks PVs, their holders, mounted partitions and signatures', () => {
    assert.equal(by.vdb!.isPv, true);
    assert.ok(by.vdb!.holders.includes('vg0-lin'));
    assert.deepEqual(by.vdb!.mounted, ['/mnt/lin']);
    assert.equal(by.vdb!.available, false);
    assert.deepEqual(by.vdd!.partitions.map((p) => [p.name, p.size, p.fstype, p.mountpoints]), [['vdd1', 267386880, 'ext4', ['/mnt/data']]]);
    assert.deepEqual([by.vdd!.partitionTable, by.vdd!.signatures, by.vdd!.inUse], ['dos', ['dos', 'ext4'], ['mounted at /mnt/data']]);
    // An unmounted filesystem on a whole disk: usable, after a wipe confirmation.
    assert.deepEqual([by.vde!.available, by.vde!.signatures], [true, ['ext4']]);
  });

  it('treats every PV of the VG holding / as system', () => {
    const doc = JSON.parse(fixture('lsblk.json').stdout) as { blockdevices: { name: string; mountpoints?: string[]; children?: unknown[] }[] };
    const vda = doc.blockdevices[0]!;
    vda.mountpoints = [];
    (vda as { mountpoint?: null }).mountpoint = null;
    // Pretend / is the thin LV vg0-thin1 (a child of both vdb and vdc).
    const walk = (n: { name: string; mountpoints?: (string | null)[]; mountpoint?: string | null; children?: unknown[] }) => {
      if (n.name === 'vg0-thin1') { n.mountpoints = ['/']; n.mountpoint = '/'; }
      for (const c of (n.children ?? []) as typeof n[]) walk(c);
    };
    for (const d of doc.blockdevices) walk(d);
    const d2 = parseLsblk(JSON.stringify(doc));
    assert.deepEqual(d2.filter((d) => d.system).map((d) => d.name), ['vdb', 'vdc']);
  });

  it('decodes device-mapper names', () => {
    assert.equal(vgOfDmName('vg0-lin'), 'vg0');
    assert.equal(vgOfDmName('my--vg-lv--a'), 'my-vg');
    assert.equal(vgOfDmName('nohyphen'), null);
  });

  it('parses wipefs signatures', () => {
    assert.deepEqual(parseWipefs(fixture('wipefs-pv.json').stdout).map((s) => s.type), ['LVM2_member']);
    assert.deepEqual(parseWipefs(fixture('wipefs-disk-mbr.json').stdout).map((s) => s.type), ['dos']);
    assert.deepEqual(parseWipefs(fixture('wipefs-part.json').stdout)[0], { type: 'ext4', offset: '0x438', uuid: '15181b7c-837d-4cea-b217-0f9cc82ed775', label: 'data' });
    assert.deepEqual(parseWipefs(''), []);
  });
});
