import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefusedError } from '../src/errors.ts';
import { devicePath, lvName, lvPath, sizeArg, vgName } from '../src/names.ts';

const refused = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) =>
  e instanceof RefusedError && (e.code === 'invalid-name' || e.code === 'refused') && re.test(e.message));

describe('LVM names (lvm(8) VALID NAMES)', () => {
  it('accepts the allowed characters', () => {
    for (const n of ['vg0', 'data_1', 'a.b', 'x+y', 'lun-01', 'A', 'a'.repeat(127)]) assert.equal(vgName(n), n);
    assert.equal(lvName('lun0'), 'lun0');
    assert.equal(lvPath('vg-a', 'lv'), 'vg-a/lv');
  });

  it('refuses shell metacharacters, traversal, whitespace and option look-alikes', () => {
    for (const bad of ['../x', 'a;b', '$(x)', ' ', 'a b', '`id`', 'a|b', 'a/b', 'a\nb', 'a\0b', 'é', '*']) {
      refused(() => vgName(bad), /only letters, digits/);
      refused(() => lvName(bad), /only letters, digits/);
    }
    refused(() => vgName('-y'), /hyphen/);
    refused(() => lvName('--force'), /hyphen/);
    refused(() => vgName('.'), /reserved/);
    refused(() => vgName('..'), /reserved/);
    refused(() => vgName(''), /required/);
    refused(() => vgName(undefined), /required/);
    refused(() => vgName(42), /required/);
    refused(() => vgName('a'.repeat(128)), /longer than 127/);
  });

  it("refuses lvm2's reserved LV prefixes and sub-LV suffixes", () => {
    refused(() => lvName('snapshot1'), /'snapshot' are reserved/);
    refused(() => lvName('pvmove0'), /'pvmove' are reserved/);
    for (const s of ['x_tmeta', 'x_tdata', 'a_rimage_0', 'b_mlog', 'c_pmspare', 'x_cdata', 'x_vorigin']) refused(() => lvName(s), /reserved by lvm2/);
    assert.equal(vgName('snapshot'), 'snapshot'); // the LV rules don't apply to VGs
  });

  it("bounds the device-mapper name (hyphens doubled) of vg/lv", () => {
    refused(() => lvPath('a-'.repeat(30) + 'a', 'b-'.repeat(30) + 'b'), /device-mapper name/);
  });

  it('accepts /dev paths and refuses anything else', () => {
    assert.equal(devicePath('/dev/vdb'), '/dev/vdb');
    assert.equal(devicePath('/dev/disk/by-id/virtio-openlun-disk0'), '/dev/disk/by-id/virtio-openlun-disk0');
    assert.equal(devicePath('/dev/disk/by-path/pci-0000:00:05.0'), '/dev/disk/by-path/pci-0000:00:05.0');
    refused(() => devicePath('/dev/../etc/passwd'), /'\.' and '\.\.'/);
    refused(() => devicePath('/etc/passwd'), /under \/dev/);
    refused(() => devicePath('/dev/sda; rm -rf /'), /unexpected characters/);
    refused(() => devicePath('/dev/$(x)'), /unexpected characters/);
    refused(() => devicePath('vdb'), /under \/dev/);
  });

  it('takes sizes as whole positive bytes', () => {
    assert.equal(sizeArg(67108864), '67108864b');
    for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 60, '10g']) refused(() => sizeArg(bad), /positive whole number/);
  });
});
