// Where each file of systemd/ goes on the appliance, and which units are enabled. Read by iso/build.ts and by the
// unit tests (so a file added here is verified, and a file on disk missing here is caught).

export interface InstalledFile {
  /** path relative to systemd/ */
  from: string;
  /** absolute path in the image */
  to: string;
  mode: number;
}

export const SYSTEMD_INSTALL = [
  { from: 'openlun-target.service', to: '/usr/lib/systemd/system/openlun-target.service', mode: 0o644 },
  { from: 'openlun-api.service', to: '/usr/lib/systemd/system/openlun-api.service', mode: 0o644 },
  { from: 'openlun-firstboot.service', to: '/usr/lib/systemd/system/openlun-firstboot.service', mode: 0o644 },
  { from: 'openlun-banner.service', to: '/usr/lib/systemd/system/openlun-banner.service', mode: 0o644 },
  { from: 'libexec/openlun-firstboot', to: '/usr/libexec/openlun/openlun-firstboot', mode: 0o755 },
  { from: 'libexec/openlun-banner', to: '/usr/libexec/openlun/openlun-banner', mode: 0o755 },
  { from: 'openlun-install.service', to: '/usr/lib/systemd/system/openlun-install.service', mode: 0o644 },
  { from: 'libexec/openlun-install', to: '/usr/libexec/openlun/openlun-install', mode: 0o755 },
  { from: 'libexec/openlun-netconfig', to: '/usr/libexec/openlun/openlun-netconfig', mode: 0o755 },
  { from: 'openlun-console.service', to: '/usr/lib/systemd/system/openlun-console.service', mode: 0o644 },
  { from: 'libexec/openlun-console', to: '/usr/libexec/openlun/openlun-console', mode: 0o755 },
  { from: 'default/openlun', to: '/etc/default/openlun', mode: 0o644 },
  { from: 'sysctl.d/90-openlun.conf', to: '/usr/lib/sysctl.d/90-openlun.conf', mode: 0o644 },
  { from: 'system.conf.d/90-openlun.conf', to: '/usr/lib/systemd/system.conf.d/90-openlun.conf', mode: 0o644 },
  { from: 'limits.d/90-openlun.conf', to: '/etc/security/limits.d/90-openlun.conf', mode: 0o644 },
  { from: 'modules-load.d/90-openlun.conf', to: '/usr/lib/modules-load.d/90-openlun.conf', mode: 0o644 },
  { from: 'networkd/90-openlun-dhcp.network', to: '/usr/lib/systemd/network/90-openlun-dhcp.network', mode: 0o644 },
] as const satisfies readonly InstalledFile[];

export const SYSTEMD_ENABLE = [
  'openlun-firstboot.service',
  'openlun-target.service',
  'openlun-api.service',
  'openlun-banner.service',
  'openlun-install.service',
  'openlun-console.service',
] as const satisfies readonly string[];
