/**
 * The iSCSI server: listens on every portal, owns the session table (TSIH allocation, session reinstatement by
 * ISID — RFC 7143 §6.3.5) and answers the login layer's questions about targets, ACLs and credentials.
 */
import net from 'node:net';
import { Connection } from './connection.ts';
import type { ConnectionServices } from './connection.ts';
import { TextSession } from './discovery.ts';
import type { LoginOutcome, TargetDirectory } from './login.ts';
import { LoginFailure } from './login-status.ts';
import { Session } from './session.ts';
import { formatPortal, initiatorAllowed, targetPortalGroupTags } from './target-config.ts';
import { portGroupsFromTags } from '../scsi/alua.ts';
import type { ChapCredential, PortalEntry, TargetEntry } from './target-config.ts';
import type { Logger } from '../log.ts';
import type { Nexus } from '../scsi/types.ts';
import { findByDesignator, setCopyTargetResolver } from '../scsi/lun-registry.ts';

export interface SessionInfo {
  tsih: number;
  kind: 'Normal' | 'Discovery';
  initiatorName: string;
  isid: string;
  target: string | undefined;
  remote: string;
  portal: string;
  since: string;
  params: Record<string, unknown>;
  tasks: number;
}

export interface ServerOptions {
  portals: PortalEntry[];
  targets: TargetEntry[];
  log: Logger;
  /** CHAP required for discovery sessions; undefined = open discovery. */
  discoveryChap?: ChapCredential | undefined;
  /** Mutual CHAP for discovery sessions: the target answers the initiator's challenge with this (needs discoveryChap). */
  discoveryMutualChap?: ChapCredential | undefined;
  nopIntervalMs?: number;
  nopTimeoutMs?: number;
}

export class IscsiServer {
  private readonly listeners: net.Server[] = [];
  private readonly connections = new Set<Connection>();
  readonly sessions = new Map<number, Session>();
  private nextTsih = 1;
  readonly targets = new Map<string, TargetEntry>();
  private readonly services: ConnectionServices;
  /** Callbacks waiting for a session to end (endSession). */
  private readonly endWaiters = new Map<Session, Array<() => void>>();

  constructor(readonly o: ServerOptions) {
    for (const t of o.targets) this.addTarget(t);
    this.services = {
      log: o.log,
      directoryFor: (conn) => this.directoryFor(conn.socket.localAddress, conn.peerAddress),
      establish: (conn, outcome) => this.establish(conn, outcome),
      nopIntervalMs: o.nopIntervalMs ?? 15_000,
      nopTimeoutMs: o.nopTimeoutMs ?? 30_000,
    };
  }

  /** Starts listening on every portal; rejects with a clear message when a port is busy. */
  async listen(): Promise<Array<{ host: string; port: number }>> {
    const portals = [...this.o.portals];
    this.o.portals.length = 0;
    for (const portal of portals) await this.listenOn(portal);
    return this.o.portals.map((p) => ({ host: p.host, port: p.port }));
  }

  private async listenOn(portal: PortalEntry): Promise<void> {
    const srv = net.createServer({ noDelay: true }, (socket) => this.accept(socket, portal));
    await new Promise<void>((resolve, reject) => {
      srv.once('error', (err: NodeJS.ErrnoException) => {
        const where = formatPortal(portal.host, portal.port);
        if (err.code === 'EADDRINUSE') reject(new Error(`portal ${where} is already in use`));
        else if (err.code === 'EADDRNOTAVAIL') reject(new Error(`portal ${where}: no such local address`));
        else if (err.code === 'EACCES') reject(new Error(`portal ${where}: permission denied`));
        else reject(new Error(`portal ${where}: ${err.message}`));
      });
      srv.listen({ host: portal.host, port: portal.port, ipv6Only: portal.host.includes(':') }, () => resolve());
    });
    srv.on('error', (err) => this.o.log.error(`listener error: ${err.message}`));
    // an ephemeral port (0) is resolved here so discovery answers with the real one
    portal.port = (srv.address() as net.AddressInfo).port;
    this.o.portals.push(portal);
    this.listeners.push(srv);
  }

  private accept(socket: net.Socket, portal: PortalEntry): void {
    const conn = new Connection(socket, portal, this.services);
    this.connections.add(conn);
    socket.on('close', () => this.connections.delete(conn));
  }


  findTarget(name: string): TargetEntry | undefined {
    return this.targets.get(name.toLowerCase());
  }

  /**
   * What the login and discovery layers may know of our targets (RFC 7143 §6.3, Appendix C), as seen from one
   * connection: a wildcard portal (0.0.0.0, ::) is announced as the address this connection reached, since an
   * initiator cannot connect to "0.0.0.0" (what LIO does for its wildcard portal too). `peerAddress` (the
   * initiator's end of the connection) is what ACL rules with networks are checked against.
   */
  directoryFor(localAddress: string | undefined, peerAddress?: string): TargetDirectory {
    const local = localAddress?.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
    const localIsV6 = local?.includes(':') ?? false;
    // a wildcard portal is reachable at this connection's address only when it listens on the same family
    const reachable = (p: PortalEntry): boolean => !isWildcard(p.host) || (local !== undefined && p.host.includes(':') === localIsV6);
    const announce = (p: PortalEntry): string => (isWildcard(p.host) ? local! : p.host);
    return {
      findTarget: (name) => {
        const t = this.findTarget(name);
        return t && { name: t.name, portalGroupTag: t.portalGroupTag, auth: t.chap ? 'CHAP' : 'None', ...(t.alias ? { alias: t.alias } : {}) };
      },
      allowInitiator: (info, initiatorName) => {
        const t = this.findTarget(info.name);
        return t !== undefined && initiatorAllowed(t, initiatorName, peerAddress);
      },
      chapFor: (info, _initiatorName) => {
        if (info === 'discovery') {
          const d = this.o.discoveryChap;
          // RFC 7143 §12.1.3: the initiator may challenge the target back (mutual CHAP), for discovery too
          return d && { user: d.user, secret: d.secret, ...(this.o.discoveryMutualChap ? { mutual: { ...this.o.discoveryMutualChap } } : {}) };
        }
        const t = this.findTarget(info.name);
        if (!t?.chap) return undefined;
        return { user: t.chap.user, secret: t.chap.secret, ...(t.mutualChap ? { mutual: t.mutualChap } : {}) };
      },
      // an initiator never learns of a target it may not log in to
      sendTargets: (initiatorName, which) =>
        [...this.targets.values()]
          .filter((t) => initiatorAllowed(t, initiatorName, peerAddress) && (which === 'All' || t.name.toLowerCase() === which.toLowerCase()))
          .map((t) => ({
            name: t.name,
            addresses: this.o.portals
              .filter((p) => targetPortalGroupTags(t).includes(p.portalGroupTag) && reachable(p))
              .map((p) => ({ host: announce(p), port: p.port, portalGroupTag: p.portalGroupTag })),
          })),
    };
  }

  private establish(conn: Connection, outcome: LoginOutcome): Session {
    if (outcome.tsih !== 0) {
      // RFC 7143 §6.3: a non-zero TSIH adds a connection to an existing session; we negotiate MaxConnections=1
      const existing = this.sessions.get(outcome.tsih);
      if (!existing || !existing.isid.equals(outcome.isid)) throw new LoginFailure('SessionDoesNotExist', `TSIH ${outcome.tsih}`);
      throw new LoginFailure('TooManyConnections', 'MaxConnections is 1');
    }
    const kind = outcome.sessionType;
    const target = kind === 'Normal' ? this.findTarget(outcome.target?.name ?? '') : undefined;
    // The target port is the portal group the connection arrived on (RFC 7143 §4.4.1: the SCSI port is the portal
    // group); a portal outside the target's groups (a portal shared by targets) keeps the target's own tag.
    const tpgt = target && targetPortalGroupTags(target).includes(conn.portal.portalGroupTag) ? conn.portal.portalGroupTag : target?.portalGroupTag;
    if (kind === 'Normal') {
      if (!target) throw new LoginFailure('TargetRemoved', 'the target went away during login');
      // the ACL may have changed since the first login request was checked (RFC 7143 §11.13.5: 0202h)
      if (!initiatorAllowed(target, outcome.initiatorName, conn.peerAddress)) throw new LoginFailure('AuthorizationFailure', `${outcome.initiatorName} is no longer allowed on ${target.name}`);
      // §6.3.5 session reinstatement: same initiator, ISID and target port → the old session is closed first
      for (const s of this.sessions.values()) {
        if (
          s.target === target &&
          (s.o.nexus?.targetPortalGroupTag ?? tpgt) === tpgt &&
          s.isid.equals(outcome.isid) &&
          s.initiatorName.toLowerCase() === outcome.initiatorName.toLowerCase()
        ) {
          this.o.log.info(`reinstating session TSIH ${s.tsih} of ${s.initiatorName}`);
          s.o.conn.drop('session reinstated by a new login with the same ISID');
          s.end();
        }
      }
    }
    const tsih = this.allocateTsih();
    const nexus: Nexus | undefined = target
      ? {
          id: `${outcome.initiatorName.toLowerCase()},i,0x${outcome.isid.toString('hex')},${target.name},t,0x${tpgt!.toString(16)}`,
          initiatorName: outcome.initiatorName,
          isid: outcome.isid,
          targetName: target.name,
          targetPortalGroupTag: tpgt!,
          // alua.ts: one target port per portal group, its relative target port identifier is the TPGT
          relativeTargetPortId: tpgt!,
        }
      : undefined;
    const p = outcome.params;
    const text = new TextSession({
      directory: this.directoryFor(conn.socket.localAddress, conn.peerAddress),
      sessionType: kind,
      initiatorName: outcome.initiatorName,
      ...(outcome.target ? { target: outcome.target } : {}),
      maxSendDataSegmentLength: p.maxRecvDataSegmentLengthInitiator,
    });
    const session = new Session({
      tsih,
      isid: outcome.isid,
      initiatorName: outcome.initiatorName,
      kind,
      target,
      nexus,
      firstCmdSN: outcome.cmdSN,
      params: {
        firstBurstLength: p.firstBurstLength,
        maxBurstLength: p.maxBurstLength,
        maxOutstandingR2T: p.maxOutstandingR2T,
        initialR2T: p.initialR2T,
        maxSendDataSegment: p.maxRecvDataSegmentLengthInitiator,
        immediateData: p.immediateData,
        dataPDUInOrder: p.dataPDUInOrder,
        dataSequenceInOrder: p.dataSequenceInOrder,
      },
      conn,
      text,
      peers: () => [...this.sessions.values()].filter((s) => s.target === target),
      onEnd: (s) => {
        if (this.sessions.get(s.tsih) === s) this.sessions.delete(s.tsih);
        conn.log(`session TSIH ${s.tsih} ended`);
        const waiters = this.endWaiters.get(s);
        this.endWaiters.delete(s);
        for (const w of waiters ?? []) w();
      },
    });
    this.sessions.set(tsih, session);
    return session;
  }

  private allocateTsih(): number {
    // RFC 7143 §11.12.3: TSIH 0 is reserved for "new session"
    for (let i = 0; i < 0xffff; i++) {
      const t = this.nextTsih;
      this.nextTsih = this.nextTsih >= 0xffff ? 1 : this.nextTsih + 1;
      if (!this.sessions.has(t)) return t;
    }
    throw new Error('out of session handles');
  }

  /**
   * Applies a new set of targets without touching what did not change (design.md: reconcile, never restart):
   * a removed target ends its sessions; a target whose ACL no longer admits an initiator ends only that
   * initiator's sessions; CHAP changes apply to the next login. LUN changes go through the target's device
   * (`ScsiTargetDevice.setLuns`, which raises REPORTED LUNS DATA HAS CHANGED). Returns what it did.
   *
   * The whole table changes in one turn of the event loop (nothing is awaited before the last entry is in place
   * and the last disallowed session ended), so no login and no command ever sees one target with part of its old
   * settings and part of its new ones; only the devices of removed targets are closed afterwards.
   */
  async setTargets(entries: TargetEntry[]): Promise<{ added: string[]; removed: string[]; updated: string[]; sessionsEnded: number }> {
    const next = new Map(entries.map((t) => [t.name.toLowerCase(), t] as const));
    const result = { added: [] as string[], removed: [] as string[], updated: [] as string[], sessionsEnded: 0 };
    const closing: TargetEntry['device'][] = [];
    for (const [key, old] of this.targets) {
      if (next.has(key)) continue;
      result.removed.push(old.name);
      result.sessionsEnded += this.endSessions((s) => s.target === old, `target ${old.name} removed`);
      this.targets.delete(key);
      if (![...next.values()].some((t) => t.device === old.device)) closing.push(old.device);
    }
    for (const [key, entry] of next) {
      const old = this.targets.get(key);
      if (!old) {
        result.added.push(entry.name);
        this.addTarget(entry);
        continue;
      }
      if (old === entry) continue;
      result.updated.push(entry.name);
      replaceSettings(old, entry);
      this.wirePreemptAbort(old);
      this.wireCopyTargets(old);
      this.wirePortGroups(old);
      result.sessionsEnded += this.endSessions(
        (s) => s.target === old && !initiatorAllowed(old, s.initiatorName, s.o.conn.peerAddress),
        `initiator no longer allowed on ${old.name}`,
      );
    }
    for (const device of closing) await device.close();
    return result;
  }

  /**
   * Ends one session on an administrator's request: an Async Message asks the initiator to log out within
   * `seconds` (RFC 7143 §11.9.1, AsyncEvent 1, Parameter3); a session still there then loses its connection (the
   * same section: the target may simply terminate the transport connection). Resolves with how it ended;
   * undefined when there is no session with that TSIH.
   */
  endSession(tsih: number, seconds = 2): Promise<'logged-out' | 'dropped'> | undefined {
    const session = this.sessions.get(tsih);
    if (!session) return undefined;
    return new Promise((resolve) => {
      let dropped = false;
      const timer = setTimeout(() => {
        if (this.sessions.get(tsih) !== session) return;
        dropped = true;
        session.o.conn.drop(`session TSIH ${tsih} did not log out within ${seconds} s of the request`);
        session.end();
      }, seconds * 1000 + 250);
      const waiters = this.endWaiters.get(session) ?? [];
      waiters.push(() => {
        clearTimeout(timer);
        resolve(dropped ? 'dropped' : 'logged-out');
      });
      this.endWaiters.set(session, waiters);
      session.o.conn.log(`asking TSIH ${tsih} to log out (administrator request)`);
      session.requestLogout(seconds);
    });
  }

  private addTarget(entry: TargetEntry): void {
    this.targets.set(entry.name.toLowerCase(), entry);
    this.wirePreemptAbort(entry);
    this.wireCopyTargets(entry);
    this.wirePortGroups(entry);
  }

  /** SPC-4 §6.36: REPORT TARGET PORT GROUPS lists every portal group of the target (alua.ts). */
  private wirePortGroups(entry: TargetEntry): void {
    entry.device.setTargetPortGroups(portGroupsFromTags(targetPortalGroupTags(entry), entry.portalGroupStates));
  }

  /**
   * SPC-4 §5.13.11.2.4 PREEMPT AND ABORT: the tasks of the preempted I_T nexuses on that LU are aborted; only the
   * transport knows the tasks, so the device asks it here (no response is sent for an aborted task).
   */
  /**
   * EXTENDED COPY (SPC-4 §6.4) names its source and destination by designator; the device may resolve them only
   * among LUs this initiator could reach itself (CVE-2020-28374): the LUs of the target it is logged in to, and of
   * other targets whose ACL admits it — a CHAP-protected one only while it holds a session there (it proved the
   * secret). Everything else is "not reachable", indistinguishable from "does not exist".
   */
  private wireCopyTargets(entry: TargetEntry): void {
    const device = entry.device;
    setCopyTargetResolver(device, (designator, nexus) => {
      const initiator = nexus.initiatorName.toLowerCase();
      const own = nexus.targetName.toLowerCase();
      const address = [...this.sessions.values()].find((s) => s.o.nexus?.id === nexus.id)?.o.conn.peerAddress;
      const reachable = [device, ...[...this.targets.values()]
        .filter((t) => t.device !== device)
        .filter((t) => t.name.toLowerCase() === own || this.mayCopyVia(t, initiator, address))
        .map((t) => t.device)];
      return findByDesignator(reachable, designator);
    });
  }

  private mayCopyVia(t: TargetEntry, initiator: string, address: string | undefined): boolean {
    if (!initiatorAllowed(t, initiator, address)) return false;
    if (!t.chap) return true;
    for (const s of this.sessions.values()) if (s.target === t && s.initiatorName.toLowerCase() === initiator) return true;
    return false;
  }

  private wirePreemptAbort(entry: TargetEntry): void {
    entry.device.onPreemptAbort = (nexusIds, lun) => {
      const preempted = new Set(nexusIds);
      for (const s of this.sessions.values()) {
        if (s.target === entry && s.o.nexus && preempted.has(s.o.nexus.id)) s.abortTasks(lun, 'PREEMPT AND ABORT');
      }
    };
  }

  /** Opens listeners for new portals and closes those of removed ones (their connections end). */
  async setPortals(portals: PortalEntry[]): Promise<void> {
    const key = (p: PortalEntry) => `${p.host}|${p.port}|${p.portalGroupTag}`;
    const wanted = new Set(portals.map(key));
    for (let i = this.o.portals.length - 1; i >= 0; i--) {
      const p = this.o.portals[i]!;
      if (wanted.has(key(p))) continue;
      this.listeners[i]?.close();
      this.listeners.splice(i, 1);
      this.o.portals.splice(i, 1);
      for (const c of this.connections) if (c.portal === p) c.drop(`portal ${formatPortal(p.host, p.port)} removed`);
    }
    const have = new Set(this.o.portals.map(key));
    for (const p of portals) if (!have.has(key(p))) await this.listenOn(p);
  }

  private endSessions(match: (s: Session) => boolean, why: string): number {
    let n = 0;
    for (const s of [...this.sessions.values()]) {
      if (!match(s)) continue;
      s.o.conn.drop(why);
      s.end();
      n++;
    }
    return n;
  }

  /** Live sessions, for the control socket and the UI (never secrets). */
  sessionList(): SessionInfo[] {
    return [...this.sessions.values()].map((s) => ({
      tsih: s.tsih,
      kind: s.o.kind,
      initiatorName: s.initiatorName,
      isid: s.isid.toString('hex'),
      target: s.target?.name,
      remote: s.o.conn.remote,
      portal: s.o.conn.portalAddress,
      since: s.startedAt.toISOString(),
      params: { ...s.o.params, headerDigest: s.o.conn.digests.headerDigest, dataDigest: s.o.conn.digests.dataDigest },
      tasks: s.tasks.size,
    }));
  }

  /** Graceful stop: ask initiators to log out, wait a little, then close everything. */
  async close(graceMs = 2000): Promise<void> {
    for (const l of this.listeners) l.close();
    const live = [...this.connections];
    for (const c of live) c.requestLogout(Math.max(1, Math.ceil(graceMs / 1000)));
    const deadline = Date.now() + graceMs;
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const c of this.connections) c.drop('target shutting down');
    for (const t of this.targets.values()) await t.device.close();
  }
}

/**
 * Moves a new entry's settings onto the live one (sessions and the device's callbacks hold the live object):
 * every setting is replaced and none survives by omission — a key the new entry lacks (a removed CHAP secret,
 * ACL, extra portal group) is deleted, not kept.
 */
function replaceSettings(live: TargetEntry, entry: TargetEntry): void {
  const target = live as unknown as Record<string, unknown>;
  for (const key of Object.keys(target)) if (!(key in entry)) delete target[key];
  Object.assign(live, entry);
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}
