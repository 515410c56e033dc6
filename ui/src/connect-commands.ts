/**
 * Copy-ready initiator commands for one target, filled with its real portal(s), IQN and CHAP user names. Secrets
 * are never known to the UI (the API never returns them), so they appear as a placeholder the admin replaces.
 * Pure functions: the connect-panel element only renders what these return.
 */

export interface ConnectInput {
  iqn: string;
  /** where initiators reach the target; at least one */
  portals: Array<{ address: string; port: number }>;
  chap?: { username: string; mutualUsername?: string | null } | undefined;
  /** SCSI ids of the mapped LUNs ("naa." designators) for XenServer's SCSIid */
  naaIds?: string[];
}

export type InitiatorOs = 'esxi' | 'windows' | 'linux' | 'xenserver';

export interface CommandBlock {
  os: InitiatorOs;
  title: string;
  /** one command per entry, shell comments included, ready to paste */
  lines: string[];
  notes: string[];
}

export const SECRET_PLACEHOLDER = '<CHAP secret>';
export const MUTUAL_SECRET_PLACEHOLDER = '<mutual CHAP secret>';

export const INITIATOR_OS = {
  esxi: 'VMware ESXi',
  windows: 'Windows (PowerShell)',
  linux: 'Linux (open-iscsi)',
  xenserver: 'XenServer / XCP-ng',
} as const satisfies Record<InitiatorOs, string>;

/** "addr:port", with IPv6 addresses in brackets (RFC 3986 §3.2.2), as every initiator tool expects. */
export function portalString(p: { address: string; port: number }): string {
  return p.address.includes(':') ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;
}

/** A wildcard listen address is not somewhere an initiator can connect to: use the address the admin reached. */
export function reachablePortals(portals: Array<{ address: string; port: number }>, pageHost: string, defaultPort: number) {
  const wildcard = new Set(['0.0.0.0', '::', '[::]']);
  const host = pageHost.replace(/^\[|\]$/g, '');
  const out = portals.map((p) => (wildcard.has(p.address) ? { address: host, port: p.port } : p));
  if (out.length === 0) out.push({ address: host, port: defaultPort });
  return out.filter((p, i) => out.findIndex((q) => q.address === p.address && q.port === p.port) === i);
}

// a value pasted into a POSIX shell or PowerShell inside single quotes: only the quote itself needs care
function q(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
function psq(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function esxi(c: ConnectInput): CommandBlock {
  const lines = [
    'esxcli iscsi software set --enabled=true',
    '# the software iSCSI adapter name (vmhba…) is in the first column:',
    'esxcli iscsi adapter list',
    'ADAPTER=vmhba64',
  ];
  for (const p of c.portals) {
    lines.push(`esxcli iscsi adapter discovery statictarget add --adapter=$ADAPTER --address=${portalString(p)} --name=${c.iqn}`);
  }
  if (c.chap) {
    for (const p of c.portals) {
      lines.push(
        `esxcli iscsi adapter target portal auth chap set --adapter=$ADAPTER --address=${portalString(p)} --name=${c.iqn} --direction=uni --level=required --authname=${q(c.chap.username)} --secret=${q(SECRET_PLACEHOLDER)}`,
      );
      if (c.chap.mutualUsername) {
        lines.push(
          `esxcli iscsi adapter target portal auth chap set --adapter=$ADAPTER --address=${portalString(p)} --name=${c.iqn} --direction=mutual --level=required --authname=${q(c.chap.mutualUsername)} --secret=${q(MUTUAL_SECRET_PLACEHOLDER)}`,
        );
      }
    }
  }
  lines.push('esxcli storage core adapter rescan --adapter=$ADAPTER');
  return {
    os: 'esxi',
    title: INITIATOR_OS.esxi,
    lines,
    notes: [
      'Run in the ESXi shell (SSH). Set ADAPTER to the software iSCSI adapter that "esxcli iscsi adapter list" shows.',
      ...(c.portals.length > 1 ? ['Several portals: ESXi uses them as paths; choose Round Robin in the device\'s multipathing policy.'] : []),
    ],
  };
}

function windows(c: ConnectInput): CommandBlock {
  const lines = ['Start-Service MSiSCSI', 'Set-Service MSiSCSI -StartupType Automatic'];
  const multipath = c.portals.length > 1;
  if (multipath) lines.push('# MPIO (once, then reboot): Install-WindowsFeature Multipath-IO; Enable-MSDSMAutomaticClaim -BusType iSCSI');
  if (c.chap?.mutualUsername) lines.push(`Set-IscsiChapSecret -ChapSecret ${psq(MUTUAL_SECRET_PLACEHOLDER)}`);
  for (const p of c.portals) {
    lines.push(`New-IscsiTargetPortal -TargetPortalAddress ${p.address} -TargetPortalPortNumber ${p.port}`);
  }
  for (const p of c.portals) {
    const auth = c.chap
      ? ` -AuthenticationType ${c.chap.mutualUsername ? 'MUTUALCHAP' : 'ONEWAYCHAP'} -ChapUsername ${psq(c.chap.username)} -ChapSecret ${psq(SECRET_PLACEHOLDER)}`
      : '';
    lines.push(
      `Connect-IscsiTarget -NodeAddress ${c.iqn} -TargetPortalAddress ${p.address} -TargetPortalPortNumber ${p.port} -IsPersistent $true${multipath ? ' -IsMultipathEnabled $true' : ''}${auth}`,
    );
  }
  lines.push('Get-Disk | Where-Object BusType -eq iSCSI');
  return {
    os: 'windows',
    title: INITIATOR_OS.windows,
    lines,
    notes: [
      'Run in an elevated PowerShell. New disks come up offline: bring them online in Disk Management or with Set-Disk -IsOffline $false.',
      ...(c.chap?.mutualUsername ? ['Mutual CHAP: the initiator secret (Set-IscsiChapSecret) is the mutual secret set on this target.'] : []),
    ],
  };
}

function linux(c: ConnectInput): CommandBlock {
  const first = c.portals[0]!;
  const lines = [`iscsiadm -m discovery -t sendtargets -p ${portalString(first)}`];
  const node = (p: { address: string; port: number }) => `iscsiadm -m node -T ${c.iqn} -p ${portalString(p)}`;
  for (const p of c.portals) {
    if (c.chap) {
      lines.push(`${node(p)} --op update -n node.session.auth.authmethod -v CHAP`);
      lines.push(`${node(p)} --op update -n node.session.auth.username -v ${q(c.chap.username)}`);
      lines.push(`${node(p)} --op update -n node.session.auth.password -v ${q(SECRET_PLACEHOLDER)}`);
      if (c.chap.mutualUsername) {
        lines.push(`${node(p)} --op update -n node.session.auth.username_in -v ${q(c.chap.mutualUsername)}`);
        lines.push(`${node(p)} --op update -n node.session.auth.password_in -v ${q(MUTUAL_SECRET_PLACEHOLDER)}`);
      }
    }
    lines.push(`${node(p)} --op update -n node.startup -v automatic`);
    lines.push(`${node(p)} --login`);
  }
  lines.push('lsblk -S -o NAME,TRAN,VENDOR,MODEL,SERIAL,SIZE');
  return {
    os: 'linux',
    title: INITIATOR_OS.linux,
    lines,
    notes: [
      'Run as root; the initiator name this host presents is in /etc/iscsi/initiatorname.iscsi (allow it in the ACL).',
      ...(c.portals.length > 1 ? ['Several portals: install multipath-tools so the paths become one dm-multipath device.'] : []),
    ],
  };
}

/** XenServer's SCSIid is the udev scsi_id of the LUN: "3" (NAA designator) followed by the NAA hex digits. */
export function xenScsiId(naaId: string): string {
  return `3${naaId.replace(/^naa\./i, '').toLowerCase()}`;
}

function xenserver(c: ConnectInput): CommandBlock {
  const first = c.portals[0]!;
  const targets = c.portals.map((p) => p.address).join(',');
  const chap = c.chap ? ` device-config:chapuser=${q(c.chap.username)} device-config:chappassword=${q(SECRET_PLACEHOLDER)}` : '';
  const base = `device-config:target=${targets} device-config:port=${first.port} device-config:targetIQN=${c.iqn}${chap}`;
  const lines = ['# lists the LUNs (SCSIid) this target offers:', `xe sr-probe type=lvmoiscsi ${base}`];
  const ids = c.naaIds && c.naaIds.length > 0 ? c.naaIds.map(xenScsiId) : ['<SCSIid from sr-probe>'];
  ids.forEach((id, i) => {
    lines.push(`xe sr-create name-label=${q(`openlun ${c.iqn.split(':').pop() ?? 'lun'}${ids.length > 1 ? ` ${i}` : ''}`)} shared=true type=lvmoiscsi content-type=user ${base} device-config:SCSIid=${id}`);
  });
  return {
    os: 'xenserver',
    title: INITIATOR_OS.xenserver,
    lines,
    notes: ['Run on the pool master; shared=true makes the SR available to every host in the pool.'],
  };
}

export function connectCommands(c: ConnectInput): CommandBlock[] {
  if (c.portals.length === 0) throw new Error('connectCommands: no portal');
  return [esxi(c), windows(c), linux(c), xenserver(c)];
}
