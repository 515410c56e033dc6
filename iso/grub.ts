// The ISO's GRUB menu (one file for BIOS and UEFI: grub-mkrescue's EFI image searches for /boot/grub/grub.cfg).

/** Kernel arguments of the live entries. `boot=live` hands the root to live-boot (squashfs + tmpfs overlay);
 *  both consoles get kernel and systemd output, the serial one last so it is /dev/console (what QEMU tests read). */
export const LIVE_KERNEL_ARGS = ['boot=live', 'components', 'quiet', 'console=tty0', 'console=ttyS0,115200n8'] as const;

/** What the install entries add: openlun-install.service runs the installer's menu (systemd/libexec/openlun-install). */
export const INSTALL_MENU_ARGS = ['openlun.install=menu'] as const;

export function grubConfig(opts: { version: string; timeoutSeconds?: number }): string {
  const args = LIVE_KERNEL_ARGS.join(' ');
  // An explicit timeout: without one the UEFI menu waits forever (seen with live-build's menus here).
  return `serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
set default=0
set timeout=${opts.timeoutSeconds ?? 5}

menuentry "openlun ${opts.version} (live)" {
  linux /live/vmlinuz ${args}
  initrd /live/initrd.img
}
menuentry "Install or upgrade openlun ${opts.version} (menu on this screen)" {
  linux /live/vmlinuz ${args} ${INSTALL_MENU_ARGS.join(' ')}
  initrd /live/initrd.img
}
menuentry "Install or upgrade openlun ${opts.version} (menu on the serial console)" {
  linux /live/vmlinuz ${args} ${INSTALL_MENU_ARGS.join(' ')} openlun.tty=ttyS0
  initrd /live/initrd.img
}
menuentry "openlun ${opts.version} (live, verbose boot)" {
  linux /live/vmlinuz ${args.replace(' quiet', '')} systemd.show_status=1
  initrd /live/initrd.img
}
`;
}
