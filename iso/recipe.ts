// The appliance image: which Debian 13 packages go into it, and the key its debootstrapped base is cached under.
// Everything that changes the base must be hashed here, so a changed recipe builds a new base.
import { createHash } from 'node:crypto';
import { GUEST_SUITE } from '../e2e/guest/recipe.ts';

/** The same suite as the test guest: trixie's nodejs is 20.19 (bookworm's 18 is end of life). */
export const ISO_SUITE = GUEST_SUITE;

/** Installed on top of debootstrap's minbase. Nothing here reaches the internet at run time. */
export const ISO_PACKAGES = [
  // boot: kernel, an initramfs that can find and mount the live medium, systemd as PID 1
  'linux-image-amd64',
  'initramfs-tools',
  'live-boot',
  'systemd-sysv',
  'udev',
  'kmod',
  'dbus',
  // base tools an admin expects on the console
  'util-linux',
  'mount',
  'e2fsprogs',
  'iproute2',
  'iputils-ping',
  'procps',
  'less',
  'ca-certificates',
  'openssl',
  // the appliance: runtime and storage
  'nodejs',
  'lvm2',
  'thin-provisioning-tools',
  'smartmontools',
  'open-iscsi',
  'libiscsi-bin',
  // the installer (openlun-install): GPT partitioning, ESP, unpacking the live root, GRUB for BIOS and UEFI
  'fdisk',
  'dosfstools',
  'squashfs-tools',
  'grub2-common',
  'grub-pc-bin',
  'grub-efi-amd64-bin',
  // static addressing: networkd's DNS= servers reach /etc/resolv.conf through resolved
  'systemd-resolved',
] as const satisfies readonly string[];

/** Bumped by hand when iso/build.ts changes how the base is made (not only what goes into it). */
export const ISO_BASE_STEPS_VERSION = 1;

export function isoBaseKey(mirror: string): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ suite: ISO_SUITE, mirror, packages: ISO_PACKAGES, steps: ISO_BASE_STEPS_VERSION }));
  return h.digest('hex').slice(0, 16);
}
