// `npm run iso` (as root on Debian): a hybrid BIOS + UEFI live ISO of the appliance, from Debian 13 packages.
//
//   debootstrap (cached: <cache>/base-<key>/rootfs)  →  copy  →  openlun + units + config into the copy
//   →  mksquashfs live/filesystem.squashfs  →  grub-mkrescue (BIOS core.img + EFI image + ESP via mtools)
//
// No loop or filesystem mounts anywhere (the build hosts' kernels have neither vfat nor iso9660; see
// /work/shared/platform-notes.md). Heavy steps run under `nice -n 10`: the build machines' 2 cores are shared.
// Output: <cache>/openlun-<version>-amd64.iso unless --out PATH; published by rename, so a reader never sees half.
//
//   node --import tsx iso/build.ts [--out PATH] [--zstd-level N] [--base-only]
import { onPath } from './on-path.ts';
import { existsSync } from 'node:fs';
import { appendFile, chmod, copyFile, mkdir, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { debianMirror } from '../e2e/guest/recipe.ts';
import { runCommand } from '../e2e/guest/run-command.ts';
import { SYSTEMD_INSTALL, SYSTEMD_ENABLE } from '../systemd/layout.ts';
import { ISO_PACKAGES, ISO_SUITE, isoBaseKey } from './recipe.ts';
import { grubConfig } from './grub.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ISO_CACHE = process.env.OPENLUN_ISO_CACHE ?? '/var/cache/openlun-iso';
const OVERLAY_DIR = join(REPO, 'iso', 'overlay');
/** Where openlun lives in the image; /usr/local/bin/openlun points at its bin/openlun. */
export const APP_DIR = '/opt/openlun';

/** Host tools the build runs, and the Debian package of each (installed when missing). */
const HOST_TOOLS = {
  debootstrap: 'debootstrap',
  mksquashfs: 'squashfs-tools',
  xorriso: 'xorriso',
  'grub-mkrescue': 'grub-common',
  mformat: 'mtools',
  'mkfs.vfat': 'dosfstools',
} as const satisfies Record<string, string>;
/** grub-mkrescue needs both platforms' modules to make a hybrid image. */
const GRUB_PLATFORM_PACKAGES = { '/usr/lib/grub/i386-pc': 'grub-pc-bin', '/usr/lib/grub/x86_64-efi': 'grub-efi-amd64-bin' } as const;

/** The repository paths openlun needs at run time (sources stay next to the bundle for source maps and tsx-less
 *  debugging; tests, benchmarks and docs stay out). node_modules is handled apart: production packages only. */
const APP_PATHS = ['bin', 'cli', 'target', 'api', 'lvm', 'ui', 'systemd', 'scripts/build.mjs', 'scripts/build-ui.mjs', 'package.json', 'package-lock.json'] as const;
/** Build scripts run inside the copy, so the bundles match exactly the sources the image holds. */
const BUNDLE_BUILDS = ['scripts/build.mjs', 'scripts/build-ui.mjs'] as const;
/** What bin/openlun checks before it starts (it rebuilds when a source is newer); must not change on a 2nd run. */
const BUNDLE_OUTPUTS = ['dist/openlun.mjs', 'ui/dist/index.html'] as const;

type Log = (line: string) => void;
/** systemd/libexec programs an admin runs by name (linked into /usr/local/sbin). */
const ADMIN_COMMANDS = ['openlun-install', 'openlun-netconfig'] as const;
const NICE = ['nice', '-n', '10'] as const;

async function ensureHostTools(log: Log): Promise<void> {
  const missing = new Set<string>();
  for (const [tool, pkg] of Object.entries(HOST_TOOLS)) if (!onPath(tool)) missing.add(pkg);
  for (const [dir, pkg] of Object.entries(GRUB_PLATFORM_PACKAGES)) if (!existsSync(dir)) missing.add(pkg);
  if (missing.size === 0) return;
  log(`installing build tools: ${[...missing].join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runCommand(['apt-get', 'update'], { env });
  await runCommand(['apt-get', 'install', '-y', '--no-install-recommends', ...missing], { env });
}

/** Unmount anything left below dir (an interrupted debootstrap leaves proc/sys mounted), then delete it. */
async function removeTree(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await runCommand(['umount', '-l', m], { allowFailure: true });
  await rm(dir, { recursive: true, force: true });
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

async function removeStaleTemps(): Promise<void> {
  for (const name of await readdir(ISO_CACHE).catch(() => [] as string[])) {
    const m = /^\.tmp-.*-(\d+)$/.exec(name);
    if (m && !pidAlive(Number(m[1]))) await removeTree(join(ISO_CACHE, name));
  }
}

async function newest(dir: string, prefix: string): Promise<string> {
  const last = (await readdir(dir)).filter((f) => f.startsWith(prefix)).sort().at(-1);
  if (!last) throw new Error(`no ${prefix}* in ${dir}`);
  return join(dir, last);
}

/** The debootstrapped root with every package of the recipe: slow (minutes), cached by recipe hash. */
export async function ensureIsoBase(mirror: string, log: Log): Promise<string> {
  const base = join(ISO_CACHE, `base-${isoBaseKey(mirror)}`);
  if (existsSync(join(base, 'rootfs'))) return base;
  const tmp = join(ISO_CACHE, `.tmp-base-${isoBaseKey(mirror)}-${process.pid}`);
  await removeTree(tmp);
  await mkdir(tmp, { recursive: true });
  const logFile = join(tmp, 'build.log');
  const onOutput = (c: Buffer) => { void appendFile(logFile, c); };
  const rootfs = join(tmp, 'rootfs');
  const env = { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' };
  log(`debootstrap ${ISO_SUITE} from ${mirror} (log: ${logFile})`);
  try {
    await runCommand([...NICE, 'debootstrap', '--variant=minbase', `--include=${ISO_PACKAGES.join(',')}`,
      ISO_SUITE, rootfs, mirror], { onOutput, env });
    await runCommand(['chroot', rootfs, 'apt-get', 'clean'], { onOutput, env });
  } catch (e) {
    log(`debootstrap failed; log kept at ${logFile}`);
    throw e;
  }
  await writeFile(join(tmp, 'recipe.json'), JSON.stringify({ suite: ISO_SUITE, mirror, packages: ISO_PACKAGES }, null, 2));
  await rm(base, { recursive: true, force: true });
  await rename(tmp, base);
  return base;
}

/** Production packages of the host's node_modules (npm ls --omit=dev), as paths relative to the repo. Copying
 *  them beats `npm ci` in the chroot: no network needed there, and native addons (better-sqlite3) were built for
 *  the same Node major; checkNodeAbi() proves the chroot's node loads them. */
async function productionModules(): Promise<string[]> {
  const r = await runCommand(['npm', 'ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO, allowFailure: true });
  const paths = r.stdout.split('\n').map((p) => p.trim()).filter((p) => p.startsWith(join(REPO, 'node_modules') + '/'));
  if (paths.length === 0) throw new Error(`npm ls found no production modules in ${REPO}/node_modules: run npm ci first\n${r.stderr}`);
  // Keep only top-most paths: a package's own nested node_modules comes with it.
  const rel = [...new Set(paths.map((p) => relative(REPO, p)))].sort();
  return rel.filter((p, i) => !rel.slice(0, i).some((q) => p.startsWith(q + '/')));
}

async function copyApp(rootfs: string, log: Log): Promise<void> {
  const dest = join(rootfs, APP_DIR.slice(1));
  await mkdir(dest, { recursive: true });
  const wanted = [...APP_PATHS.filter((p) => existsSync(join(REPO, p))), ...(await productionModules())];
  const skipped = APP_PATHS.filter((p) => !existsSync(join(REPO, p)));
  if (skipped.length) log(`not in this checkout, left out: ${skipped.join(' ')}`);
  await runCommand(['cp', '-a', '--parents', ...wanted, dest], { cwd: REPO });
  await rm(join(dest, 'node_modules', '.package-lock.json'), { force: true });
  for (const dir of ['target/test', 'target/pdu/test', 'api/test', 'lvm/test', 'ui/test', 'dist', 'ui/dist']) {
    await rm(join(dest, dir), { recursive: true, force: true });
  }
  // The bundles are built from the copied sources, not taken from the checkout: the checkout may change between
  // the two (others edit and rebuild), and bin/openlun rebuilds at start when a source is newer than a bundle,
  // which fails on the appliance (the units make /opt read-only). esbuild and lit are production dependencies.
  for (const script of BUNDLE_BUILDS) {
    if (existsSync(join(dest, script))) await runCommand(['node', join(dest, script)], { cwd: dest });
  }
  // Prove it: start bin/openlun once (as the units will) and check it rebuilt nothing.
  const mtimes = async () => Promise.all(BUNDLE_OUTPUTS.map((f) => stat(join(dest, f)).then((st) => st.mtimeMs, () => -1)));
  const before = await mtimes();
  await runCommand([join(dest, 'bin/openlun'), '--help'], { cwd: dest, allowFailure: true });
  const afterRun = await mtimes();
  if (before.some((m, i) => m !== afterRun[i])) throw new Error(`bin/openlun rebuilt a bundle at start (${BUNDLE_OUTPUTS.join(', ')}): it would fail on the read-only /opt`);
  log(`bundles built in the image from its own sources (${BUNDLE_OUTPUTS.filter((_, i) => before[i]! > 0).join(', ')})`);
  await mkdir(join(rootfs, 'usr/local/bin'), { recursive: true });
  await rm(join(rootfs, 'usr/local/bin/openlun'), { force: true });
  await symlink(join(APP_DIR, 'bin/openlun'), join(rootfs, 'usr/local/bin/openlun'));
}

/** The chroot's node (trixie's 20.19) must load the native addons copied from the host (NODE_MODULE_VERSION). */
async function checkNodeAbi(rootfs: string, log: Log): Promise<void> {
  const probe = `const r=require;const D=r('${APP_DIR}/node_modules/better-sqlite3');new D(':memory:').prepare('select 1').get();` +
    `console.log(process.version, 'abi', process.versions.modules)`;
  const r = await runCommand(['chroot', rootfs, 'node', '-e', probe], { allowFailure: true });
  if (r.code !== 0) {
    throw new Error(`the image's node cannot load better-sqlite3 built on this host (${process.version}, abi ` +
      `${process.versions.modules}); build on a host with the same Node major.\n${r.stderr.trim()}`);
  }
  log(`image node ${r.stdout.trim()} loads better-sqlite3 (host ${process.version}, abi ${process.versions.modules})`);
}

async function copyTree(src: string, dstRoot: string): Promise<void> {
  for (const ent of await readdir(src, { withFileTypes: true })) {
    const s = join(src, ent.name);
    const d = join(dstRoot, ent.name);
    if (ent.isDirectory()) { await mkdir(d, { recursive: true }); await copyTree(s, d); continue; }
    await copyFile(s, d);
  }
}

async function installSystemd(rootfs: string): Promise<void> {
  for (const { from, to, mode } of SYSTEMD_INSTALL) {
    const dst = join(rootfs, to.slice(1));
    await mkdir(dirname(dst), { recursive: true });
    await copyFile(join(REPO, 'systemd', from), dst);
    await chmod(dst, mode);
  }
  await runCommand(['chroot', rootfs, 'systemctl', 'enable', ...SYSTEMD_ENABLE]);
  // The admin's console commands (rollback, static address) by their short names.
  await mkdir(join(rootfs, 'usr/local/sbin'), { recursive: true });
  for (const tool of ADMIN_COMMANDS) {
    await rm(join(rootfs, 'usr/local/sbin', tool), { force: true });
    await symlink(`/usr/libexec/openlun/${tool}`, join(rootfs, 'usr/local/sbin', tool));
  }
}

/** Identity and configuration of the image itself (everything per-machine is regenerated by openlun-firstboot). */
async function configureRoot(rootfs: string): Promise<void> {
  if (existsSync(OVERLAY_DIR)) await copyTree(OVERLAY_DIR, rootfs);
  await writeFile(join(rootfs, 'etc/hostname'), 'openlun\n');
  await writeFile(join(rootfs, 'etc/hosts'), '127.0.0.1 localhost\n127.0.1.1 openlun\n::1 localhost ip6-localhost ip6-loopback\n');
  // Empty (not absent): systemd then treats the boot as the first and writes a fresh id.
  await writeFile(join(rootfs, 'etc/machine-id'), '');
  await rm(join(rootfs, 'var/lib/dbus/machine-id'), { force: true });
  await rm(join(rootfs, 'etc/iscsi/initiatorname.iscsi'), { force: true });
  for (const f of await readdir(join(rootfs, 'etc/ssh')).catch(() => [] as string[])) {
    if (f.startsWith('ssh_host_')) await rm(join(rootfs, 'etc/ssh', f), { force: true });
  }
  // live-boot's initramfs writes /etc/network/interfaces into the root; networkd ignores it, but the folder must exist.
  await mkdir(join(rootfs, 'etc/network'), { recursive: true });
  await rm(join(rootfs, 'var/lib/apt/lists'), { recursive: true, force: true });
  await mkdir(join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
  await runCommand(['chroot', rootfs, 'systemctl', 'enable', 'systemd-networkd.service', 'systemd-networkd-wait-online.service']);
  // The appliance answers on the console, not on a login prompt first: the getty shows /run/issue.d (banner).
  await runCommand(['chroot', rootfs, 'systemctl', 'enable', 'serial-getty@ttyS0.service']);
}

async function buildIso(opts: { out: string; zstdLevel: number }, log: Log): Promise<void> {
  const mirror = debianMirror();
  const t0 = Date.now();
  await ensureHostTools(log);
  await mkdir(ISO_CACHE, { recursive: true });
  await removeStaleTemps();
  const base = await ensureIsoBase(mirror, log);
  log(`base ready (${((Date.now() - t0) / 1000).toFixed(0)} s): ${base}`);

  const work = join(ISO_CACHE, `.tmp-iso-${process.pid}`);
  await removeTree(work);
  const rootfs = join(work, 'rootfs');
  const staging = join(work, 'staging');
  try {
    await mkdir(work, { recursive: true });
    await runCommand(['cp', '-a', '--reflink=auto', join(base, 'rootfs'), rootfs]);
    await copyApp(rootfs, log);
    await checkNodeAbi(rootfs, log);
    await configureRoot(rootfs);
    await installSystemd(rootfs);
    await mkdir(join(staging, 'live'), { recursive: true });
    await mkdir(join(staging, 'boot/grub'), { recursive: true });
    await copyFile(await newest(join(rootfs, 'boot'), 'vmlinuz-'), join(staging, 'live/vmlinuz'));
    await copyFile(await newest(join(rootfs, 'boot'), 'initrd.img-'), join(staging, 'live/initrd.img'));
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
    await writeFile(join(staging, 'boot/grub/grub.cfg'), grubConfig({ version: pkg.version }));

    const t1 = Date.now();
    log(`mksquashfs (zstd level ${opts.zstdLevel})`);
    await runCommand([...NICE, 'mksquashfs', rootfs, join(staging, 'live/filesystem.squashfs'), '-comp', 'zstd',
      '-Xcompression-level', String(opts.zstdLevel), '-noappend', '-quiet', '-e', 'boot']);
    log(`squashfs in ${((Date.now() - t1) / 1000).toFixed(0)} s`);
    await removeTree(rootfs);

    const tmpIso = join(work, 'openlun.iso');
    // grub-mkrescue: El Torito BIOS boot, an EFI System Partition image (mtools, no mount) and a hybrid MBR/GPT,
    // so the same file boots from a CD, a virtual CD, or dd'ed to a USB stick.
    await runCommand([...NICE, 'grub-mkrescue', '-o', tmpIso, staging, '--', '-volid', 'OPENLUN']);
    await mkdir(dirname(opts.out), { recursive: true });
    await rename(tmpIso, opts.out);
  } finally {
    await removeTree(work);
  }
  const size = (await stat(opts.out)).size;
  log(`ISO ${opts.out}: ${(size / 2 ** 20).toFixed(0)} MiB, built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

export async function defaultIsoPath(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
  return join(ISO_CACHE, `openlun-${pkg.version}-amd64.iso`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: {
    out: { type: 'string' },
    'zstd-level': { type: 'string' },
    'base-only': { type: 'boolean' },
  } });
  const log = (l: string) => console.log(`[iso] ${l}`);
  if (process.getuid?.() !== 0) { console.error('iso: run as root (debootstrap, chroot)'); process.exit(1); }
  if (values['base-only']) {
    await ensureHostTools(log);
    await mkdir(ISO_CACHE, { recursive: true });
    log(`base: ${await ensureIsoBase(debianMirror(), log)}`);
  } else {
    // zstd 15: ~2 min here and ~30% smaller than level 3 (platform-notes); 3 for quick iterations.
    const zstdLevel = Number(values['zstd-level'] ?? process.env.OPENLUN_ISO_ZSTD_LEVEL ?? 15);
    await buildIso({ out: values.out ?? await defaultIsoPath(), zstdLevel }, log);
  }
}
