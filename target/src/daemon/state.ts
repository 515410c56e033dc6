/**
 * The desired state targetd runs from (the shape api/src/desired-state.ts produces), checked field by field: every
 * problem is reported at once, by path, and never with a secret's value in the message.
 */
import { isAbsolute } from 'node:path';
import { isIP } from 'node:net';
import type { DesiredPortalGroup, DesiredState, DesiredTarget } from '../../../api/src/desired-state.ts';
import { iscsiNameProblem } from '../iscsi/names.ts';

export type { DesiredState, DesiredBackstore, DesiredTarget, DesiredPortalGroup, DesiredAclEntry, ChapCredential } from '../../../api/src/desired-state.ts';

export const STATE_VERSION = 1;
// SAM-5 §4.6.1 / our LUN encoding: flat space addressing reaches 16383
const MAX_LUN = 16383;
const NAA_ID = /^[0-9a-f]{16}$|^[0-9a-f]{32}$/;
const SERIAL = /^[\x21-\x7e]{1,32}$/;
// SPC-4 §5.16.2.4: the access states a portal group (= target port group) may be put in
const ALUA_STATES: ReadonlySet<unknown> = new Set(['active-optimized', 'active-non-optimized', 'standby', 'unavailable']);

export class StateProblems extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid desired state: ${problems.join('; ')}`);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Returns the state typed, or throws StateProblems listing every bad field. */
export function validateState(input: unknown): DesiredState {
  const p: string[] = [];
  const bad = (path: string, why: string): void => void p.push(`${path}: ${why}`);
  if (!isObj(input)) throw new StateProblems(['state: must be an object']);
  if (input['version'] !== STATE_VERSION) bad('version', `must be ${STATE_VERSION}`);
  if (typeof input['hostname'] !== 'string') bad('hostname', 'must be a string');
  const portal = (path: string, v: unknown): void => {
    if (!isObj(v)) return bad(path, 'must be {host, port}');
    if (typeof v['host'] !== 'string' || isIP(v['host']) === 0) bad(`${path}.host`, 'must be an IPv4 or IPv6 address');
    if (!Number.isInteger(v['port']) || (v['port'] as number) < 0 || (v['port'] as number) > 65535) bad(`${path}.port`, 'must be 0-65535');
  };
  const array = (path: string, v: unknown): unknown[] => {
    if (Array.isArray(v)) return v;
    bad(path, 'must be an array');
    return [];
  };
  // RFC 7143 §12.1.3: secrets of 12 to 255 characters; RFC 1994 needs a name
  const chap = (path: string, v: unknown): void => {
    if (v === undefined) return;
    if (!isObj(v)) return bad(path, 'must be {user, secret}');
    if (typeof v['user'] !== 'string' || v['user'].length === 0 || v['user'].length > 255) bad(`${path}.user`, 'must be 1-255 characters');
    if (typeof v['secret'] !== 'string' || v['secret'].length < 12 || v['secret'].length > 255) bad(`${path}.secret`, 'must be 12-255 characters');
  };
  const mutualDiffers = (path: string, one: unknown, mutual: unknown): void => {
    if (mutual === undefined) return;
    if (one === undefined) bad(path, 'mutual CHAP needs one-way CHAP');
    else if (isObj(one) && isObj(mutual) && one['secret'] === mutual['secret']) bad(path, 'must differ from the one-way secret (RFC 7143 §12.1.3)');
  };

  array('listen', input['listen']).forEach((v, i) => portal(`listen[${i}]`, v));
  chap('discoveryChap', input['discoveryChap']);
  chap('discoveryMutualChap', input['discoveryMutualChap']);
  mutualDiffers('discoveryMutualChap', input['discoveryChap'], input['discoveryMutualChap']);

  const backstores = new Set<string>();
  array('backstores', input['backstores']).forEach((b, i) => {
    const at = `backstores[${i}]`;
    if (!isObj(b)) return bad(at, 'must be an object');
    if (typeof b['name'] !== 'string' || b['name'].length === 0) bad(`${at}.name`, 'must be a non-empty string');
    else if (backstores.has(b['name'])) bad(`${at}.name`, `duplicate backstore ${b['name']}`);
    else backstores.add(b['name']);
    if (b['kind'] !== 'file' && b['kind'] !== 'block') bad(`${at}.kind`, 'must be "file" or "block"');
    if (typeof b['path'] !== 'string' || !isAbsolute(b['path']) || b['path'].includes('\0')) bad(`${at}.path`, 'must be an absolute path');
    if (!Number.isSafeInteger(b['sizeBytes']) || (b['sizeBytes'] as number) < 0) bad(`${at}.sizeBytes`, 'must be a non-negative integer');
    if (b['blockSize'] !== 512 && b['blockSize'] !== 4096) bad(`${at}.blockSize`, 'must be 512 or 4096');
    if (typeof b['readOnly'] !== 'boolean') bad(`${at}.readOnly`, 'must be a boolean');
    if (typeof b['writeBack'] !== 'boolean') bad(`${at}.writeBack`, 'must be a boolean');
    // SPC-4 §7.8.5 / §7.8.6.6: identity comes from the store and is never invented here
    if (typeof b['serial'] !== 'string' || !SERIAL.test(b['serial'])) bad(`${at}.serial`, 'must be 1-32 printable ASCII characters');
    if (typeof b['naaId'] !== 'string' || !NAA_ID.test(b['naaId'])) bad(`${at}.naaId`, 'must be 16 or 32 lower-case hex digits');
  });

  const targetNames = new Set<string>();
  array('targets', input['targets']).forEach((t, i) => {
    const at = `targets[${i}]`;
    if (!isObj(t)) return bad(at, 'must be an object');
    if (typeof t['name'] !== 'string') bad(`${at}.name`, 'must be an iSCSI name');
    else {
      const why = iscsiNameProblem(t['name']);
      if (why) bad(`${at}.name`, why);
      else if (targetNames.has(t['name'].toLowerCase())) bad(`${at}.name`, `duplicate target ${t['name']}`);
      targetNames.add(t['name'].toLowerCase());
    }
    if (t['alias'] !== undefined && (typeof t['alias'] !== 'string' || t['alias'].length > 255)) bad(`${at}.alias`, 'must be a string of at most 255 characters');
    // RFC 7143 §13.9: a TPGT is 16 bits; 0 stays out of the target port group designator (SPC-4 §7.8.6.8)
    const tagOk = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 0xffff;
    if (t['portalGroups'] !== undefined) {
      if (t['portalGroupTag'] !== undefined || t['portals'] !== undefined) bad(at, 'portalGroups and the one-group form (portalGroupTag, portals) exclude each other');
      const groups = array(`${at}.portalGroups`, t['portalGroups']);
      if (Array.isArray(t['portalGroups']) && groups.length === 0) bad(`${at}.portalGroups`, 'must list at least one portal group');
      const tags = new Set<number>();
      const portals = new Set<string>();
      groups.forEach((g, j) => {
        const gat = `${at}.portalGroups[${j}]`;
        if (!isObj(g)) return bad(gat, 'must be {tag, aluaState, portals}');
        if (!tagOk(g['tag'])) bad(`${gat}.tag`, 'must be 1-65535');
        else if (tags.has(g['tag'] as number)) bad(`${gat}.tag`, `duplicate portal group tag ${g['tag'] as number} (RFC 7143 §4.4.1: unique within a target)`);
        else tags.add(g['tag'] as number);
        if (!ALUA_STATES.has(g['aluaState'])) bad(`${gat}.aluaState`, `must be one of ${[...ALUA_STATES].join(', ')}`);
        array(`${gat}.portals`, g['portals']).forEach((v, k) => {
          portal(`${gat}.portals[${k}]`, v);
          // RFC 7143 §4.4.1: a network portal belongs to one portal group of the target
          const key = isObj(v) ? `${String(v['host'])}|${String(v['port'])}` : '';
          if (key && portals.has(key)) bad(`${gat}.portals[${k}]`, 'is in another portal group of this target too');
          portals.add(key);
        });
      });
    } else {
      if (!tagOk(t['portalGroupTag'])) bad(`${at}.portalGroupTag`, 'must be 1-65535');
      array(`${at}.portals`, t['portals']).forEach((v, j) => portal(`${at}.portals[${j}]`, v));
    }
    const numbers = new Set<number>();
    array(`${at}.luns`, t['luns']).forEach((l, j) => {
      const lat = `${at}.luns[${j}]`;
      if (!isObj(l)) return bad(lat, 'must be {lun, backstore}');
      if (!Number.isInteger(l['lun']) || (l['lun'] as number) < 0 || (l['lun'] as number) > MAX_LUN) bad(`${lat}.lun`, `must be 0-${MAX_LUN}`);
      else if (numbers.has(l['lun'] as number)) bad(`${lat}.lun`, `duplicate LUN ${l['lun'] as number}`);
      else numbers.add(l['lun'] as number);
      if (typeof l['backstore'] !== 'string' || !backstores.has(l['backstore'])) bad(`${lat}.backstore`, 'must name a backstore of this state');
    });
    array(`${at}.acl`, t['acl']).forEach((a, j) => {
      const aat = `${at}.acl[${j}]`;
      if (!isObj(a)) return bad(aat, 'must be {group, initiators, networks}');
      if (typeof a['group'] !== 'string') bad(`${aat}.group`, 'must be a string');
      array(`${aat}.initiators`, a['initiators']).forEach((n, k) => {
        const why = typeof n === 'string' ? iscsiNameProblem(n) : 'must be a string';
        if (why) bad(`${aat}.initiators[${k}]`, why);
      });
      array(`${aat}.networks`, a['networks']).forEach((n, k) => {
        const [net, bits, extra] = typeof n === 'string' ? n.split('/') : [];
        const family = net ? isIP(net) : 0;
        const max = family === 6 ? 128 : 32;
        if (family === 0 || extra !== undefined || !/^\d+$/.test(bits ?? '') || Number(bits) > max) bad(`${aat}.networks[${k}]`, 'must be a CIDR network');
      });
    });
    chap(`${at}.chap`, t['chap']);
    chap(`${at}.mutualChap`, t['mutualChap']);
    mutualDiffers(`${at}.mutualChap`, t['chap'], t['mutualChap']);
  });
  if (input['warnings'] !== undefined) array('warnings', input['warnings']);
  if (p.length > 0) throw new StateProblems(p);
  return input as unknown as DesiredState;
}

/**
 * The portal groups of a validated target: its portalGroups, or the one-group form of state files written before
 * portal groups (portalGroupTag + portals) as one active/optimized group.
 */
export function portalGroupsOf(t: DesiredTarget): DesiredPortalGroup[] {
  if (t.portalGroups) return t.portalGroups;
  return [{ tag: t.portalGroupTag ?? 1, aluaState: 'active-optimized', portals: t.portals ?? [] }];
}
