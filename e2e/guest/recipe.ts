// The Debian 13 (trixie) test guest: what goes into it, and the key its build is cached under.
// Everything that changes the image must be hashed here, so a changed recipe builds a new image.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GUEST_SUITE = 'trixie';

/** Installed on top of debootstrap's minbase. The guest boots a tiny custom init (overlay/sbin/openlun-init),
 *  not systemd: measured faster under TCG, and a test guest needs no service manager. systemd-sysv is kept so
 *  the image can still be booted with systemd (drop `init=` from the kernel command line) when debugging. */
export const GUEST_PACKAGES = [
  'linux-image-amd64',
  'initramfs-tools',
  'systemd-sysv',
  'udev',
  'kmod',
  'util-linux',
  'mount',
  'e2fsprogs',
  'iproute2',
  'procps',
  'lvm2',
  'thin-provisioning-tools',
  'open-iscsi',
  'nodejs',
] as const satisfies readonly string[];

/** Files copied over the debootstrapped root (path relative to overlay/ = path in the guest). */
export const OVERLAY_DIR = fileURLToPath(new URL('./overlay/', import.meta.url));

/** Bumped by hand when build.ts changes how the image is made (not only what goes into it). */
export const BUILD_STEPS_VERSION = 1;

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

/** The Debian mirror apt uses on this host (never a hard-coded host): the first non-security `URIs:` (deb822)
 *  or `deb` line of /etc/apt/sources.list*. */
export function debianMirror(): string {
  const candidates = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d')) {
      if (f.endsWith('.sources') || f.endsWith('.list')) candidates.push(join('/etc/apt/sources.list.d', f));
    }
  } catch { /* no directory */ }
  for (const file of candidates) {
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      const m = /^URIs:\s*(\S+)/.exec(line) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/.exec(line);
      const uri = m?.[1];
      if (uri && /\/debian\/?$/.test(uri) && !uri.includes('security')) return uri.replace(/\/$/, '');
    }
  }
  throw new Error('no Debian mirror found in /etc/apt/sources.list*');
}

/** Hash of the base root filesystem (debootstrap + packages): changes rarely, slow to rebuild. */
export function baseKey(mirror: string): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ suite: GUEST_SUITE, mirror, packages: GUEST_PACKAGES, steps: BUILD_STEPS_VERSION }));
  return h.digest('hex').slice(0, 16);
}

/** Hash of the bootable image: base + overlay files (init, agent). Cheap to rebuild from a cached base. */
export function imageKey(mirror: string): string {
  const h = createHash('sha256');
  h.update(baseKey(mirror));
  for (const f of listFiles(OVERLAY_DIR)) {
    h.update(relative(OVERLAY_DIR, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}
