// Builds the test guest once per machine and caches it under a key derived from the recipe:
//   <cache>/base-<baseKey>/{rootfs/,vmlinuz,initrd.img}   debootstrap + packages (slow: minutes)
//   <cache>/<imageKey>/{vmlinuz,initrd.img,root.img}      base + overlay as an ext4 image (seconds)
// Concurrent builders serialize on a lock directory; each stage is built in a temp dir and published by rename,
// so a reader only ever sees a complete stage. Run directly to (re)build: node --import tsx e2e/guest/build.ts
import { existsSync } from 'node:fs';
import { appendFile, chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand } from './run-command.ts';
import { GUEST_PACKAGES, GUEST_SUITE, OVERLAY_DIR, baseKey, debianMirror, imageKey } from './recipe.ts';

export const CACHE_ROOT = process.env.OPENLUN_GUEST_CACHE ?? '/var/cache/openlun-guest';

export interface GuestImage {
  key: string;
  dir: string;
  kernel: string;
  initrd: string;
  rootImage: string;
}

type Log = (line: string) => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** A lock directory holding the owner's pid; a lock whose owner died is taken over. */
async function withLock<T>(lockPath: string, log: Log, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60 * 60_000;
  let announced = false;
  for (;;) {
    try {
      await mkdir(lockPath);
      await writeFile(join(lockPath, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(await readFile(join(lockPath, 'pid'), 'utf8').catch(() => '0'));
      if (pid > 0 && !pidAlive(pid)) { await rm(lockPath, { recursive: true, force: true }); continue; }
      if (pid === 0) {
        // Owner between mkdir and writing its pid, or died there: treat as stale after a grace period.
        const age = Date.now() - (await stat(lockPath).then((s) => s.mtimeMs).catch(() => Date.now()));
        if (age > 30_000) { await rm(lockPath, { recursive: true, force: true }); continue; }
      }
      if (!announced) { log(`waiting for another build (lock ${lockPath}, pid ${pid})`); announced = true; }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockPath}`);
      await sleep(2000);
    }
  }
  try { return await fn(); } finally { await rm(lockPath, { recursive: true, force: true }); }
}

/** Unmount anything left mounted below dir (an interrupted debootstrap leaves proc/sys mounted), then delete it. */
async function removeTree(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await runCommand(['umount', '-l', m], { allowFailure: true });
  await rm(dir, { recursive: true, force: true });
}

/** Temp dirs of builders that died (.tmp-*-<pid>) are removed before a new build starts. */
async function removeStaleTemps(): Promise<void> {
  for (const name of await readdir(CACHE_ROOT).catch(() => [] as string[])) {
    const m = /^\.tmp-.*-(\d+)$/.exec(name);
    if (m && !pidAlive(Number(m[1]))) await removeTree(join(CACHE_ROOT, name));
  }
}

async function pickBootFile(bootDir: string, prefix: string): Promise<string> {
  const files = (await readdir(bootDir)).filter((f) => f.startsWith(prefix)).sort();
  const last = files.at(-1);
  if (!last) throw new Error(`no ${prefix}* in ${bootDir}`);
  return join(bootDir, last);
}

async function buildBase(mirror: string, dest: string, log: Log): Promise<void> {
  const tmp = join(CACHE_ROOT, `.tmp-base-${baseKey(mirror)}-${process.pid}`);
  await removeTree(tmp);
  await mkdir(tmp, { recursive: true });
  const logFile = join(tmp, 'build.log');
  const onOutput = (c: Buffer) => { void appendFile(logFile, c); };
  const rootfs = join(tmp, 'rootfs');
  try {
    log(`debootstrap ${GUEST_SUITE} from ${mirror} (log: ${logFile})`);
    await runCommand(['debootstrap', '--variant=minbase', `--include=${GUEST_PACKAGES.join(',')}`,
      GUEST_SUITE, rootfs, mirror], { onOutput, env: { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' } });
    await runCommand(['chroot', rootfs, 'apt-get', 'clean'], { onOutput });
    await rm(join(rootfs, 'var/lib/apt/lists'), { recursive: true, force: true });
    await mkdir(join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
    // Identity baked in by debootstrap would be shared by every guest: the init regenerates these each boot.
    await writeFile(join(rootfs, 'etc/machine-id'), '');
    await rm(join(rootfs, 'etc/iscsi/initiatorname.iscsi'), { force: true });
    await writeFile(join(rootfs, 'etc/hostname'), 'openlun-guest\n');
    await writeFile(join(rootfs, 'etc/hosts'), '127.0.0.1 localhost\n127.0.1.1 openlun-guest\n');
    await copyFile(await pickBootFile(join(rootfs, 'boot'), 'vmlinuz-'), join(tmp, 'vmlinuz'));
    await copyFile(await pickBootFile(join(rootfs, 'boot'), 'initrd.img-'), join(tmp, 'initrd.img'));
    await writeFile(join(tmp, 'recipe.json'), JSON.stringify({ suite: GUEST_SUITE, mirror, packages: GUEST_PACKAGES }, null, 2));
    await rename(tmp, dest);
  } catch (e) {
    log(`base build failed; log kept at ${logFile}`);
    throw e;
  }
}

async function copyOverlay(rootfs: string): Promise<void> {
  const walk = async (dir: string): Promise<void> => {
    for (const ent of await readdir(dir, { withFileTypes: true })) {
      const src = join(dir, ent.name);
      const dst = join(rootfs, relative(OVERLAY_DIR, src));
      if (ent.isDirectory()) { await mkdir(dst, { recursive: true }); await walk(src); continue; }
      await mkdir(dirname(dst), { recursive: true });
      await copyFile(src, dst);
      // Executables are named by where they live, so a lost exec bit in a checkout can't break the guest.
      const exec = /(^|\/)s?bin\//.test(relative(OVERLAY_DIR, src));
      await chmod(dst, exec ? 0o755 : 0o644);
    }
  };
  await walk(OVERLAY_DIR);
}

async function buildImage(mirror: string, base: string, dest: string, log: Log): Promise<void> {
  const tmp = join(CACHE_ROOT, `.tmp-img-${imageKey(mirror)}-${process.pid}`);
  await removeTree(tmp);
  await mkdir(tmp, { recursive: true });
  const rootfs = join(tmp, 'rootfs');
  await runCommand(['cp', '-a', '--reflink=auto', join(base, 'rootfs'), rootfs]);
  await copyOverlay(rootfs);
  const used = Number((await runCommand(['du', '-sb', rootfs])).stdout.split('\t')[0]);
  // Room for what tests put on the root fs (a copied-in project tree, scratch files); the file is sparse.
  const sizeMiB = Math.ceil((used * 1.2) / 2 ** 20) + 2048;
  log(`mkfs.ext4 -d: ${(used / 2 ** 20).toFixed(0)} MiB of files into a ${sizeMiB} MiB image`);
  await runCommand(['mkfs.ext4', '-q', '-F', '-L', 'openlun-root', '-d', rootfs, join(tmp, 'root.img'), `${sizeMiB}M`],
  );
  await removeTree(rootfs);
  await copyFile(join(base, 'vmlinuz'), join(tmp, 'vmlinuz'));
  await copyFile(join(base, 'initrd.img'), join(tmp, 'initrd.img'));
  await copyFile(join(base, 'recipe.json'), join(tmp, 'recipe.json'));
  await rename(tmp, dest);
}

function imageAt(dir: string, key: string): GuestImage {
  return { key, dir, kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), rootImage: join(dir, 'root.img') };
}

/** Returns the cached base root filesystem directory, building it first if needed. */
export async function ensureBase(mirror: string, log: Log = () => {}): Promise<string> {
  await mkdir(CACHE_ROOT, { recursive: true });
  const bk = baseKey(mirror);
  const base = join(CACHE_ROOT, `base-${bk}`);
  if (existsSync(join(base, 'rootfs'))) return base;
  await withLock(join(CACHE_ROOT, `base-${bk}.lock`), log, async () => {
    if (existsSync(join(base, 'rootfs'))) return;
    await removeStaleTemps();
    const t0 = Date.now();
    await buildBase(mirror, base, log);
    log(`base built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
  return base;
}

/** Returns the cached guest image, building it first if this machine has none for the current recipe. */
export async function ensureGuestImage(log: Log = () => {}): Promise<GuestImage> {
  const mirror = debianMirror();
  const key = imageKey(mirror);
  const dir = join(CACHE_ROOT, key);
  if (existsSync(join(dir, 'root.img'))) return imageAt(dir, key);
  await mkdir(CACHE_ROOT, { recursive: true });
  return withLock(join(CACHE_ROOT, `${key}.lock`), log, async () => {
    if (existsSync(join(dir, 'root.img'))) return imageAt(dir, key);
    const base = await ensureBase(mirror, log);
    const t0 = Date.now();
    await buildImage(mirror, base, dir, log);
    log(`image built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return imageAt(dir, key);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t0 = Date.now();
  const log = (l: string) => console.log(`[guest-build] ${l}`);
  if (process.argv.includes('--base-only')) {
    const base = await ensureBase(debianMirror(), log);
    log(`base ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${base}`);
  } else {
    const img = await ensureGuestImage(log);
    log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${img.dir}`);
  }
}
