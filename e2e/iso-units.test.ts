// systemd/ and the ISO's boot menu, checked without building or booting anything (seconds):
// systemd-analyze verify on the units inside a scratch root, the properties issue 7 asks of each unit, the sysctl
// keys against this kernel, the banner script against a fake `ip`, and the layout table against the files on disk.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LIVE_KERNEL_ARGS, grubConfig } from '../iso/grub.ts';
import { SYSTEMD_ENABLE, SYSTEMD_INSTALL } from '../systemd/layout.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const SYSTEMD = join(REPO, 'systemd');
const scratch = mkdtempSync(join(tmpdir(), 'openlun-units-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

type Unit = Map<string, Map<string, string[]>>;

/** A unit file as section → key → every value given (systemd.syntax(7): later lines add to list settings). */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) { section = new Map(); unit.set(s[1]!, section); continue; }
    const eq = line.indexOf('=');
    assert.ok(section && eq > 0, `bad line: ${line}`);
    const key = line.slice(0, eq);
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1)]);
  }
  return unit;
}

function unit(name: string): Unit {
  return parseUnit(readFileSync(join(SYSTEMD, name), 'utf8'));
}

/** All words of a list setting, across repeated lines. */
function words(u: Unit, section: string, key: string): string[] {
  return (u.get(section)?.get(key) ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
}

function one(u: Unit, section: string, key: string): string | undefined {
  return u.get(section)?.get(key)?.at(-1);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

describe('systemd/ layout', () => {
  test('every shipped file is installed, and every installed file exists', () => {
    const onDisk = listFiles(SYSTEMD).map((p) => relative(SYSTEMD, p)).filter((p) => !p.endsWith('.ts') && !p.endsWith('.md')).sort();
    const listed = SYSTEMD_INSTALL.map((f) => f.from as string).sort();
    assert.deepEqual(onDisk, listed);
  });

  test('enabled units are installed units with an [Install] section', () => {
    for (const name of SYSTEMD_ENABLE) {
      assert.ok(SYSTEMD_INSTALL.some((f) => f.from === name), name);
      assert.ok(unit(name).get('Install')?.get('WantedBy')?.length, `${name} has no WantedBy`);
    }
  });
});

describe('openlun-target.service', () => {
  const u = unit('openlun-target.service');

  test('ordered after LVM activation and the network', () => {
    const afterUnits = words(u, 'Unit', 'After');
    for (const dep of ['lvm2-monitor.service', 'network-online.target']) assert.ok(afterUnits.includes(dep), dep);
    assert.ok(words(u, 'Unit', 'Wants').includes('network-online.target'));
  });

  test('restarts on failure, within limits', () => {
    assert.equal(one(u, 'Service', 'Restart'), 'on-failure');
    assert.ok(Number(one(u, 'Unit', 'StartLimitBurst')) > 0);
    assert.match(one(u, 'Unit', 'StartLimitIntervalSec') ?? '', /^\d+/);
    assert.ok(Number(one(u, 'Service', 'LimitNOFILE')) >= 65536);
  });

  test('hardened as far as the data path allows', () => {
    assert.equal(one(u, 'Service', 'ProtectSystem'), 'strict');
    assert.deepEqual(words(u, 'Service', 'ReadWritePaths').sort(), ['/run/openlun', '/var/lib/openlun']);
    for (const k of ['PrivateTmp', 'NoNewPrivileges', 'ProtectHome']) assert.equal(one(u, 'Service', k), 'yes', k);
    assert.deepEqual(words(u, 'Service', 'RestrictAddressFamilies'), ['AF_UNIX', 'AF_INET', 'AF_INET6']);
    const caps = words(u, 'Service', 'CapabilityBoundingSet');
    assert.ok(caps.length > 0 && !caps.includes('CAP_SYS_ADMIN'), 'the target needs no CAP_SYS_ADMIN');
  });

  test('logs to the journal with a component field', () => {
    assert.equal(one(u, 'Service', 'StandardOutput'), 'journal');
    assert.match(one(u, 'Service', 'LogExtraFields') ?? '', /^OPENLUN_COMPONENT=target$/);
  });

  test('runs `openlun targetd`', () => {
    assert.match(one(u, 'Service', 'ExecStart') ?? '', /^\/opt\/openlun\/bin\/openlun targetd\b/);
  });
});

describe('openlun-api.service', () => {
  const u = unit('openlun-api.service');
  const t = unit('openlun-target.service');

  test('restarting the API never stops or restarts the target', () => {
    // Only these propagate a stop/restart of the API to the target (systemd.unit(5)).
    for (const key of ['PartOf', 'BindsTo', 'Requires', 'Requisite', 'PropagatesStopTo', 'StopPropagatedFrom']) {
      for (const [name, file] of [['api', u], ['target', t]] as const) {
        assert.ok(!words(file, 'Unit', key).some((d) => d.startsWith('openlun-')), `${name} ${key} links the two services`);
      }
    }
    assert.ok(words(u, 'Unit', 'After').includes('openlun-target.service'));
  });

  test('capabilities bounded; binding 443 allowed', () => {
    assert.ok(words(u, 'Service', 'CapabilityBoundingSet').includes('CAP_NET_BIND_SERVICE'));
    assert.equal(one(u, 'Service', 'NoNewPrivileges'), 'yes');
    assert.equal(one(u, 'Service', 'ProtectSystem'), 'strict');
    assert.match(one(u, 'Service', 'ExecStart') ?? '', /^\/opt\/openlun\/bin\/openlun serve\b/);
    assert.equal(one(u, 'Service', 'Restart'), 'on-failure');
  });

  test('the data dir and socket dir are shared, and survive either service stopping', () => {
    for (const file of [u, t]) {
      assert.equal(one(file, 'Service', 'StateDirectory'), 'openlun');
      assert.equal(one(file, 'Service', 'RuntimeDirectory'), 'openlun');
      assert.equal(one(file, 'Service', 'RuntimeDirectoryPreserve'), 'yes');
    }
    assert.match(readFileSync(join(SYSTEMD, 'default/openlun'), 'utf8'), /--data-dir \/var\/lib\/openlun\b/);
  });
});

describe('openlun-firstboot.service', () => {
  test('runs before the services, once per machine', () => {
    const u = unit('openlun-firstboot.service');
    for (const dep of ['openlun-target.service', 'openlun-api.service', 'iscsid.service']) {
      assert.ok(words(u, 'Unit', 'Before').includes(dep), dep);
    }
    assert.equal(one(u, 'Unit', 'ConditionPathExists'), '!/var/lib/openlun/.firstboot-done');
    const script = readFileSync(join(SYSTEMD, 'libexec/openlun-firstboot'), 'utf8');
    for (const what of ['machine-id', 'ssh-keygen -A', 'initiatorname.iscsi', '.firstboot-done']) assert.ok(script.includes(what), what);
  });
});

test('systemd-analyze verify accepts every unit (no warnings)', { skip: !existsSync('/usr/bin/systemd-analyze') && 'no systemd-analyze' }, () => {
  // A scratch root: the host's units (for targets like sysinit.target), ours, and stand-ins for the binaries
  // verify checks for executability.
  const root = join(scratch, 'root');
  const unitDir = join(root, 'usr/lib/systemd/system');
  mkdirSync(unitDir, { recursive: true });
  const hostUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(d));
  assert.ok(hostUnits, 'no systemd unit directory on this host');
  // cp -a: unit dirs hold symlinks to /dev/null (masked units) that fs.cpSync refuses to copy.
  const cp = spawnSync('cp', ['-a', `${hostUnits}/.`, unitDir], { encoding: 'utf8' });
  assert.equal(cp.status, 0, cp.stderr);
  for (const f of SYSTEMD_INSTALL) {
    const dst = join(root, f.to);
    mkdirSync(dirname(dst), { recursive: true });
    cpSync(join(SYSTEMD, f.from), dst);
    chmodSync(dst, f.mode);
  }
  mkdirSync(join(root, 'opt/openlun/bin'), { recursive: true });
  writeFileSync(join(root, 'opt/openlun/bin/openlun'), '#!/bin/sh\n', { mode: 0o755 });
  const units = SYSTEMD_INSTALL.filter((f) => f.from.endsWith('.service')).map((f) => f.from);
  const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // verify only warns (exit 0) on unknown keys and unparsable values: any output about our units is a failure.
  const ours = (r.stderr + r.stdout).split('\n').filter((l) => l.includes('openlun'));
  assert.deepEqual(ours, []);
});

test('sysctl drop-in: known keys, storage-sized buffers', () => {
  const text = readFileSync(join(SYSTEMD, 'sysctl.d/90-openlun.conf'), 'utf8');
  const entries = text.split('\n').filter((l) => l.trim() && !l.startsWith('#')).map((l) => {
    const m = /^([\w.]+)\s*=\s*(.+)$/.exec(l.trim());
    assert.ok(m, `bad sysctl line: ${l}`);
    return [m[1]!, m[2]!] as const;
  });
  const conf = new Map(entries);
  assert.ok(Number(conf.get('net.core.rmem_max')) >= 16 * 2 ** 20);
  assert.ok(Number(conf.get('net.core.wmem_max')) >= 16 * 2 ** 20);
  for (const k of ['net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem']) {
    const [, , max] = (conf.get(k) ?? '').split(/\s+/).map(Number);
    assert.equal(max, Number(conf.get('net.core.rmem_max')), `${k} max`);
  }
  // Every key names a real sysctl (a typo is silently ignored by systemd-sysctl). Namespaced containers may hide
  // net.core.* keys; only keys this kernel shows in another namespace would be false alarms, so check vm/ipv4.
  for (const [k] of entries) {
    const path = join('/proc/sys', ...k.split('.'));
    if (k.startsWith('net.core.') && !existsSync('/proc/sys/net/core')) continue;
    assert.ok(existsSync(path), `${k} is not a sysctl here`);
  }
});

test('limits: services and login shells get a large descriptor table', () => {
  assert.match(readFileSync(join(SYSTEMD, 'system.conf.d/90-openlun.conf'), 'utf8'), /^DefaultLimitNOFILE=\d+:\d+$/m);
  assert.match(readFileSync(join(SYSTEMD, 'limits.d/90-openlun.conf'), 'utf8'), /^root\s+hard\s+nofile\s+\d+$/m);
});

test('console banner: UI URL and every global address, on each tty and in the issue file', () => {
  const bin = join(scratch, 'bin');
  mkdirSync(bin, { recursive: true });
  // `ip -o addr show scope global` as iproute2 prints it.
  writeFileSync(join(bin, 'ip'), `#!/bin/sh
cat <<'X'
2: ens3    inet 10.0.2.15/24 brd 10.0.2.255 scope global dynamic ens3\\       valid_lft 86000sec preferred_lft 86000sec
2: ens3    inet6 fec0::5054:ff:fe12:3456/64 scope global dynamic mngtmpaddr \\       valid_lft 86000sec preferred_lft 14000sec
X
`, { mode: 0o755 });
  writeFileSync(join(bin, 'systemctl'), '#!/bin/sh\necho active\n', { mode: 0o755 });
  const issueDir = join(scratch, 'issue.d');
  const tty = join(scratch, 'fake-tty');
  writeFileSync(tty, '');
  const r = spawnSync('bash', [join(SYSTEMD, 'libexec/openlun-banner')], {
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin`, OPENLUN_BANNER_ISSUE_DIR: issueDir, OPENLUN_BANNER_TTYS: tty, OPENLUN_BANNER_DEFAULTS: '/nonexistent', OPENLUN_BANNER_WAIT_SECONDS: '0' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Web UI: https:\/\/10\.0\.2\.15\//);
  assert.match(r.stdout, /ens3\s+fec0::5054:ff:fe12:3456/);
  assert.match(r.stdout, /target: active\s+api: active\s+web UI: unknown/);
  assert.equal(readFileSync(join(issueDir, '50-openlun.issue'), 'utf8').trim(), r.stdout.trim());
  // The fake tty is a regular file, so the script must not have written to it (it only writes to char devices).
  assert.equal(readFileSync(tty, 'utf8'), '');
});

test('ISO boot menu: live entry with both consoles and an explicit timeout', () => {
  const cfg = grubConfig({ version: '9.9.9' });
  assert.match(cfg, /^set timeout=\d+$/m);
  assert.match(cfg, /menuentry "openlun 9\.9\.9 \(live\)"/);
  assert.ok(cfg.includes(`linux /live/vmlinuz ${LIVE_KERNEL_ARGS.join(' ')}`));
  assert.ok(LIVE_KERNEL_ARGS.includes('boot=live'));
  // The serial console last: it becomes /dev/console, which the boot test reads.
  assert.equal(LIVE_KERNEL_ARGS.filter((a) => a.startsWith('console=')).at(-1), 'console=ttyS0,115200n8');
});

test('console banner: a UI that does not answer is reported with the services\' last messages', async () => {
  const bin = join(scratch, 'bin2');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'ip'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(bin, 'systemctl'), '#!/bin/sh\necho failed\n', { mode: 0o755 });
  writeFileSync(join(bin, 'journalctl'), '#!/bin/sh\necho "openlun-api[12]: EADDRINUSE"\n', { mode: 0o755 });
  // A port nothing listens on: the script polls it for OPENLUN_BANNER_WAIT_SECONDS, then gives up.
  const { createServer } = await import('node:net');
  const port = await new Promise<number>((res) => { const s = createServer().listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => res(typeof a === 'object' && a ? a.port : 0)); }); });
  const r = spawnSync('bash', [join(SYSTEMD, 'libexec/openlun-banner')], {
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin`, OPENLUN_BANNER_ISSUE_DIR: join(scratch, 'issue2.d'), OPENLUN_BANNER_TTYS: '', OPENLUN_BANNER_DEFAULTS: '/nonexistent',
      OPENLUN_BANNER_WAIT_SECONDS: '1', OPENLUN_UI_PORT: String(port), OPENLUN_UI_SCHEME: 'http' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /No network address yet/);
  assert.match(r.stdout, /web UI: not answering/);
  assert.match(r.stdout, /openlun-api\[12\]: EADDRINUSE/);
});

describe('openlun-install (the parts that need no disk)', () => {
  const INSTALL = join(SYSTEMD, 'libexec/openlun-install');
  const isRoot = process.getuid?.() === 0;
  const esp = join(scratch, 'esp');
  const uuidA = '0d2b6a58-3f1e-4a57-9a4b-0c4b8a5e2a11';
  const uuidB = '7c1f9e0a-55d1-4c0e-8f62-2b7d1e3a9b22';
  const runInstall = (...args: string[]) => spawnSync('bash', [INSTALL, ...args], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', OPENLUN_INSTALL_VERSION: '9.9.9' } });
  const entries = (cfg: string) => [...cfg.matchAll(/^menuentry "([^"]+)" --id (openlun-[ab]) \{\n([\s\S]*?)\n\}/gm)].map((m) => ({ title: m[1]!, id: m[2]!, body: m[3]! }));

  test('boot menu after a first install: one entry, slot a, root by UUID, both consoles', () => {
    mkdirSync(join(esp, 'openlun'), { recursive: true });
    writeFileSync(join(esp, 'openlun/slot-a'), `1.0.0 2026-11-01 ${uuidA}\n`);
    writeFileSync(join(esp, 'openlun/default'), 'a\n');
    const r = runInstall('--print-grub-cfg', esp);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^set default=0$/m);
    assert.match(r.stdout, /^set timeout=\d+$/m);
    assert.match(r.stdout, /^serial --unit=0 --speed=115200$/m);
    const e = entries(r.stdout);
    assert.deepEqual(e.map((x) => [x.title, x.id]), [['openlun 1.0.0 (slot a)', 'openlun-a']]);
    assert.match(e[0]!.body, new RegExp(`search --no-floppy --fs-uuid --set=root ${uuidA}`));
    assert.match(e[0]!.body, new RegExp(`linux /boot/vmlinuz root=UUID=${uuidA} ro .*console=tty0 console=ttyS0,115200n8 openlun\\.slot=a$`, 'm'));
  });

  test('after an upgrade the new slot boots by default and the old one is "previous"', () => {
    writeFileSync(join(esp, 'openlun/slot-b'), `1.1.0 2026-11-20 ${uuidB}\n`);
    writeFileSync(join(esp, 'openlun/default'), 'b\n');
    const e = entries(runInstall('--print-grub-cfg', esp).stdout);
    assert.deepEqual(e.map((x) => x.id), ['openlun-b', 'openlun-a']);
    assert.equal(e[0]!.title, 'openlun 1.1.0 (slot b)');
    assert.equal(e[1]!.title, 'openlun 1.0.0 (previous, slot a, installed 2026-11-01)');
    assert.match(e[1]!.body, /openlun\.slot=a$/m);
  });

  test('a corrupt slot record is refused, not written into the menu', () => {
    writeFileSync(join(esp, 'openlun/default'), 'c\n');
    assert.notEqual(runInstall('--print-grub-cfg', esp).status, 0);
    writeFileSync(join(esp, 'openlun/default'), 'b\n');
    writeFileSync(join(esp, 'openlun/slot-b'), `1.1.0 2026-11-20 $(reboot)\n`);
    const r = runInstall('--print-grub-cfg', esp);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /bad root UUID/);
    writeFileSync(join(esp, 'openlun/slot-b'), `1.1.0 2026-11-20 ${uuidB}\n`);
  });

  test('rollback makes the previous slot the default and rewrites the menu', { skip: !isRoot && 'needs root' }, () => {
    mkdirSync(join(esp, 'grub'), { recursive: true });
    const r = runInstall('--rollback', '--esp', esp, '--yes');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(esp, 'openlun/default'), 'utf8').trim(), 'a');
    assert.deepEqual(entries(readFileSync(join(esp, 'grub/grub.cfg'), 'utf8')).map((x) => x.id), ['openlun-a', 'openlun-b']);
    // Nothing to roll back to when the other slot is empty.
    rmSync(join(esp, 'openlun/slot-b'));
    const again = runInstall('--rollback', '--esp', esp, '--yes');
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /no previous system in slot b/);
    assert.equal(readFileSync(join(esp, 'openlun/default'), 'utf8').trim(), 'a');
  });

  test('refuses what is not a whole disk, and unknown arguments, before touching anything', { skip: !isRoot && 'needs root' }, () => {
    for (const [args, msg] of [
      [['--disk', '/dev/sda;reboot', '--yes'], /not a device path/],
      [['--disk', '/dev/openlun-no-such-disk', '--yes'], /not a block device/],
      [['--disk', '/dev/null', '--yes'], /not a block device/],
      [['--disk', '/dev/vda', '--upgrade'], /./],
      [['--bogus'], /unknown argument/],
    ] as const) {
      const r = runInstall(...args);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, msg, args.join(' '));
    }
  });

  test('without a terminal and without --yes it refuses to erase anything', { skip: !isRoot && 'needs root' }, () => {
    const r = spawnSync('bash', [INSTALL], { encoding: 'utf8', input: '1\n', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', OPENLUN_INSTALL_VERSION: '9.9.9', OPENLUN_INSTALL_MEDIUM: join(scratch, 'no-medium') } });
    assert.notEqual(r.status, 0);
  });

  test('the installer unit runs only when the kernel command line asks for it, and owns the consoles', () => {
    const u = unit('openlun-install.service');
    assert.equal(one(u, 'Unit', 'ConditionKernelCommandLine'), 'openlun.install');
    assert.ok(words(u, 'Unit', 'Conflicts').includes('serial-getty@ttyS0.service'));
    assert.match(one(u, 'Service', 'ExecStart') ?? '', /^\/usr\/libexec\/openlun\/openlun-install --from-cmdline$/);
    assert.equal(one(unit('openlun-banner.service'), 'Unit', 'ConditionKernelCommandLine'), '!openlun.install');
  });

  test('the ISO menu offers install/upgrade on the screen and on the serial console', () => {
    const cfg = grubConfig({ version: '9.9.9' });
    assert.match(cfg, /menuentry "Install or upgrade openlun 9\.9\.9 \(menu on this screen\)"/);
    assert.match(cfg, /linux \/live\/vmlinuz .* openlun\.install=menu openlun\.tty=ttyS0\n/);
    // The live system stays the default entry: an unattended boot of the ISO never waits in an installer.
    assert.match(cfg.split('menuentry')[1]!, /\(live\)/);
  });
});

describe('openlun-netconfig (the console and API helper)', () => {
  const NET = join(SYSTEMD, 'libexec/openlun-netconfig');
  const dir = join(scratch, 'network');
  const net = (...args: string[]) => spawnSync('bash', [NET, '--dir', dir, '--no-apply', ...args], { encoding: 'utf8' });

  test('static address, gateway and DNS as a networkd file; show reads it back; dhcp removes it', () => {
    assert.deepEqual(JSON.parse(net('show').stdout), { mode: 'dhcp' });
    const r = net('static', '--interface', 'enp1s0', '--address', '192.0.2.10/24', '--gateway', '192.0.2.1', '--dns', '192.0.2.53');
    assert.equal(r.status, 0, r.stderr);
    const file = readFileSync(join(dir, '10-openlun-static.network'), 'utf8');
    assert.match(file, /\[Match\]\nName=enp1s0\n\n\[Network\]\nAddress=192\.0\.2\.10\/24\nGateway=192\.0\.2\.1\nDNS=192\.0\.2\.53\nDHCP=no\n/);
    assert.deepEqual(JSON.parse(net('show').stdout), { mode: 'static', interface: 'enp1s0', address: '192.0.2.10', prefixLength: 24, gateway: '192.0.2.1', dns: ['192.0.2.53'] });
    // It sorts before the shipped DHCP file (networkd applies the first file that matches a link).
    assert.ok('10-openlun-static.network' < '90-openlun-dhcp.network');
    assert.equal(net('dhcp').status, 0);
    assert.deepEqual(readdirSync(dir), []);
  });

  test('bad values are refused with the field named, and nothing is written', () => {
    for (const [args, field] of [
      [['--interface', 'e0', '--address', '192.0.2.10'], 'address'],
      [['--interface', 'e0', '--address', '192.0.2.300/24'], 'address'],
      [['--interface', 'e0', '--address', '192.0.2.010/24'], 'address'],
      [['--interface', 'e0', '--address', '192.0.2.255/24'], 'address'],
      [['--interface', 'e0', '--address', '192.0.2.10/33'], 'prefix'],
      [['--interface', 'e0', '--address', '192.0.2.10/24', '--gateway', '198.51.100.1'], 'gateway'],
      [['--interface', 'e0', '--address', '192.0.2.10/24', '--dns', 'dns.example'], 'dns'],
      [['--interface', '$(reboot)', '--address', '192.0.2.10/24'], 'interface'],
    ] as const) {
      const r = net('static', ...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^openlun-netconfig: ${field}:`), args.join(' '));
    }
    assert.deepEqual(readdirSync(dir), []);
  });
});

test('onPath finds executables on PATH without a shell, and only files', async () => {
  const { onPath } = await import('../iso/on-path.ts');
  assert.equal(onPath('sh'), true);
  assert.equal(onPath('openlun-no-such-tool'), false);
  assert.equal(onPath('/bin/sh'), true);
  assert.equal(onPath('/bin'), false, 'a directory is not a program');
  assert.equal(onPath('sh', '/nonexistent'), false);
});
