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
  /** initiator names the target's ACL admits by name: libiscsi and QEMU must present one of them */
  initiators?: string[];
}

export type InitiatorOs = 'esxi' | 'windows' | 'linux' | 'xenserver' | 'libiscsi';

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
  libiscsi: 'Linux (libiscsi / QEMU)',
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

/**
 * libiscsi's URL: iscsi://[<user>[%<password>]@]<host>[:<port>][/<target-iqn>/<lun>] (iscsi-ls(1)). The user and
 * password are taken verbatim up to '%' and '@' (no percent-decoding), so they are not escaped here.
 */
export function libiscsiUrl(p: { address: string; port: number }, chapUser?: string, iqn?: string, lun?: number): string {
  const auth = chapUser ? `${chapUser}%${SECRET_PLACEHOLDER}@` : '';
  const path = iqn === undefined ? '' : `/${iqn}/${lun ?? 0}`;
  return `iscsi://${auth}${portalString(p)}${path}`;
}

/** QEMU's iscsi block driver options (--image-opts): the secret by reference to a --object secret, never inline. */
export function qemuImageOpts(p: { address: string; port: number }, c: ConnectInput, lun: number): string {
  const opts = [`driver=iscsi`, `transport=tcp`, `portal=${portalString(p)}`, `target=${c.iqn}`, `lun=${lun}`];
  if (c.initiators?.[0]) opts.push(`initiator-name=${c.initiators[0]}`);
  if (c.chap) opts.push(`user=${c.chap.username}`, 'password-secret=chap0');
  return opts.join(',');
}

function libiscsi(c: ConnectInput): CommandBlock {
  const initiator = c.initiators?.[0];
  const i = initiator ? `-i ${initiator} ` : '';
  const user = c.chap?.username;
  const lunCount = Math.max(1, c.naaIds?.length ?? 0);
  // discovery (SendTargets) authenticates with the appliance's discovery credentials, not this target's CHAP
  const lines = ['# the targets behind the portal (a discovery session):'];
  lines.push(`iscsi-ls ${i}${q(libiscsiUrl(c.portals[0]!))}`);
  lines.push('# INQUIRY of LUN 0 over every portal (each portal is a path):');
  for (const p of c.portals) lines.push(`iscsi-inq ${i}${q(libiscsiUrl(p, user, c.iqn, 0))}`);
  lines.push(`iscsi-readcapacity16 ${i}-s ${q(libiscsiUrl(c.portals[0]!, user, c.iqn, 0))}`);
  if (c.chap) {
    // qemu-img reads the secret from a file (--object secret), so it never sits in QEMU's argv (ps, /proc)
    lines.push('# QEMU: the secret goes in a file only root can read, not on the command line:');
    lines.push(`install -m 600 /dev/null chap.secret && printf '%s' ${q(SECRET_PLACEHOLDER)} > chap.secret`);
  }
  const secretObject = c.chap ? '--object secret,id=chap0,file=chap.secret ' : '';
  for (let lun = 0; lun < lunCount; lun++) {
    lines.push(`qemu-img info ${secretObject}--image-opts ${q(qemuImageOpts(c.portals[0]!, c, lun))}`);
  }
  const notes = [
    initiator
      ? `-i and initiator-name present ${initiator}, an initiator this target's access list allows.`
      : 'Without -i libiscsi presents its own initiator name (iqn.2007-10.com.github:sahlberg:libiscsi:<tool>): allow it in the ACL, or pass -i with an allowed name.',
  ];
  notes.push('iscsi-ls discovers without credentials; if discovery authentication is on, add its user and secret to that URL as user%secret@.');
  if (c.chap) {
    notes.push('The secret in an iscsi:// URL is visible to other users in the process list: leave out "%<CHAP secret>" and export LIBISCSI_CHAP_PASSWORD instead.');
    if (c.chap.mutualUsername) notes.push('libiscsi\'s tools and QEMU authenticate one way only: the target is not asked to prove the mutual secret.');
  }
  if (c.portals.length > 1) {
    notes.push(`Several portals (${c.portals.map(portalString).join(', ')}): QEMU uses one path per drive; for failover run the LUN through dm-multipath on the host instead.`);
  }
  return { os: 'libiscsi', title: INITIATOR_OS.libiscsi, lines, notes };
}

export function connectCommands(c: ConnectInput): CommandBlock[] {
  if (c.portals.length === 0) throw new Error('connectCommands: no portal');
  return [esxi(c), windows(c), linux(c), libiscsi(c), xenserver(c)];
}
