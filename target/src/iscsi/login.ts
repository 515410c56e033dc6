/**
 * The login phase of one connection (RFC 7143 §6.3, §11.12, §11.13): stage transitions, identity and
 * access checks, authentication and operational negotiation. Pure logic — the connection feeds decoded
 * Login Requests and sends the Login Responses this returns. One LoginSession per TCP connection.
 */
import { Opcode } from 'node-iscsi-pdu';
import type { LoginRequestPdu, LoginResponsePdu } from 'node-iscsi-pdu';
import { CHAP_KEYS, ChapResponder, type ChapCredentials, type ChapOptions } from './chap.ts';
import { LoginFailure, LoginStatus, type LoginStatusName } from './login-status.ts';
import { keySpec } from './negotiation-keys.ts';
import {
  DEFAULT_TARGET_SETTINGS,
  Negotiator,
  type NegotiatedParams,
  type SessionType,
  type TargetSettings,
} from './negotiator.ts';
import { TextAccumulator, TextFormatError, encodeTextPairs, parseTextData, splitText, type TextChunk, type TextPair } from './text-keys.ts';

export interface TargetInfo {
  name: string;
  alias?: string;
  /** Portal group tag answered in TargetPortalGroupTag (RFC 7143 §13.9). */
  portalGroupTag: number;
  /** 'CHAP' demands authentication even when chapFor() has no credentials for this initiator (then login fails). */
  auth?: 'None' | 'CHAP';
}

export interface TargetDirectory {
  findTarget(name: string): TargetInfo | undefined;
  /** access decision for a normal session */
  allowInitiator(target: TargetInfo, initiatorName: string): boolean;
  /** CHAP credentials required for this target/initiator (undefined = no auth required) */
  chapFor(target: TargetInfo | 'discovery', initiatorName: string): ChapCredentials | undefined;
  /** SendTargets=All for this initiator: only targets it may see, each with every portal */
  sendTargets(
    initiatorName: string,
    which: 'All' | string,
  ): Array<{ name: string; addresses: Array<{ host: string; port: number; portalGroupTag: number }> }>;
}

/** StatSN / ExpCmdSN / MaxCmdSN of one Login Response (RFC 7143 §11.13.4). */
export interface LoginSequenceNumbers {
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
}

export interface LoginContext {
  directory: TargetDirectory;
  /** What we offer; DEFAULT_TARGET_SETTINGS when absent. */
  settings?: TargetSettings;
  /**
   * Called once per Login Response, in send order. Default: StatSN 0 (the connection fills it in),
   * ExpCmdSN = MaxCmdSN = the request's CmdSN (login requests are immediate, RFC 7143 §11.12).
   */
  sequence?: (request: LoginRequestPdu) => LoginSequenceNumbers;
  /** Overrides the portal group tag of the target (the portal the connection arrived on). */
  portalGroupTag?: number;
  chap?: ChapOptions;
  /** Receives one line per violation; never a secret. */
  log?: (message: string) => void;
  /**
   * For a login with TSIH ≠ 0 (a connection joining a session): does that session exist for this
   * initiator, ISID and target? Absent = the caller checks later and uses `refuse` on completion.
   */
  sessionExists?(tsih: number, isid: Buffer, initiatorName: string, target: TargetInfo): boolean;
  /** Bound on Login Requests per connection (resource exhaustion guard). Default 64. */
  maxLoginPdus?: number;
}

export interface LoginOutcome {
  sessionType: SessionType;
  initiatorName: string;
  initiatorAlias?: string;
  target?: TargetInfo;
  isid: Buffer;
  /** TSIH as requested: 0 = new session (the caller allocates one), else the session to join. */
  tsih: number;
  cid: number;
  /** CmdSN of the login request: the session's first expected CmdSN (RFC 7143 §11.12.5). */
  cmdSN: number;
  params: NegotiatedParams;
  authMethod: 'None' | 'CHAP';
  /** The initiator made the target authenticate itself (mutual CHAP). */
  mutualChap: boolean;
}

export type LoginStep =
  /** Send `response`; the login goes on. */
  | { kind: 'continue'; response: LoginResponsePdu }
  /** Send `response` (a status class ≠ 0), then close the connection (RFC 7143 §6.3). */
  | { kind: 'failed'; response: LoginResponsePdu; status: LoginStatusName; reason: string }
  /**
   * The initiator may enter full feature phase. The caller registers the session, then sends
   * accept(tsih) — or refuse(...) when it cannot (e.g. TSIH unknown → SessionDoesNotExist).
   */
  | {
      kind: 'complete';
      outcome: LoginOutcome;
      accept(tsih: number, sequence?: Partial<LoginSequenceNumbers>): LoginResponsePdu;
      refuse(status: LoginStatusName, reason: string): LoginResponsePdu;
    };

/** RFC 7143 §11.12.3 stage codes. */
export const Stage = { Security: 0, Operational: 1, FullFeature: 3 } as const;

/** RFC 7143 §11.12.4: the only version defined. */
const ISCSI_VERSION = 0x00;
/** RFC 7143 §13.12: login text is bounded by the default MaxRecvDataSegmentLength. */
const LOGIN_TEXT_LIMIT = 8192;
const IDENTITY_KEYS = ['InitiatorName', 'TargetName', 'SessionType'] as const;
const SECURITY_KEYS = new Set<string>(['AuthMethod', ...CHAP_KEYS]);
const EMPTY = Buffer.alloc(0);

interface Reply {
  data: Buffer;
  transit: boolean;
  nsg: number;
}

export class LoginSession {
  #ctx: LoginContext;
  #negotiator: Negotiator;
  #acc = new TextAccumulator();
  #state: 'login' | 'complete' | 'failed' = 'login';
  #pdus = 0;
  /** Stage agreed so far; undefined before the first request. */
  #stage: number | undefined;
  #first: { versionMax: number; versionMin: number; isid: Buffer; tsih: number; cid: number; cmdSN: number } | undefined;
  #identified = false;
  /** The identity keys as the first request declared them (a repeat must carry the same value). */
  readonly #identity = new Map<string, string>();
  #initiatorName = '';
  #sessionType: SessionType = 'Normal';
  #target: TargetInfo | undefined;
  #creds: ChapCredentials | undefined;
  #authRequired = false;
  #authMethod: 'None' | 'CHAP' | undefined;
  #chap: ChapResponder | undefined;
  #authDone = false;
  #declaredIdentity = false;
  #declaredLimits = false;
  #pendingOut: { chunks: TextChunk[]; reply: Reply } | undefined;

  constructor(ctx: LoginContext) {
    this.#ctx = ctx;
    this.#negotiator = new Negotiator(ctx.settings ?? DEFAULT_TARGET_SETTINGS);
  }

  /** Handle one Login Request. Never throws for protocol errors: they become a 'failed' step. */
  handle(req: LoginRequestPdu): LoginStep {
    try {
      return this.#handle(req);
    } catch (err) {
      if (err instanceof LoginFailure) return this.#fail(req, err);
      if (err instanceof TextFormatError) return this.#fail(req, new LoginFailure('InitiatorError', `bad login text: ${err.message}`));
      throw err;
    }
  }

  #handle(req: LoginRequestPdu): LoginStep {
    if (this.#state !== 'login') throw new LoginFailure('InvalidDuringLogin', `login request after the login ${this.#state === 'failed' ? 'failed' : 'completed'}`);
    if (++this.#pdus > (this.#ctx.maxLoginPdus ?? 64)) throw new LoginFailure('InitiatorError', 'too many login requests');
    this.#checkHeader(req);
    if (this.#pendingOut) return this.#continueOutput(req);

    const text = this.#acc.push(req.data, req.continue);
    // RFC 7143 §6.1/§11.12.2: a request with C=1 is answered with an empty response until the text is complete.
    if (text === undefined) return this.#continue(req, { data: EMPTY, transit: false, nsg: 0 });

    let pairs = parseTextData(text);
    if (!this.#identified) this.#identify(pairs, req);
    else {
      // RFC 7143 §13.4, §13.5, §13.21: names and session type belong to the first request only, and §6.2.1 asks a
      // target to reject a redeclaration. libiscsi 1.19 repeats them, unchanged, in its operational-stage request
      // when it offered CHAP and the target chose None; the same value again changes nothing, so it is dropped
      // (interop), while a different or new value is still refused.
      const isIdentity = ([k]: TextPair) => (IDENTITY_KEYS as readonly string[]).includes(k);
      const late = pairs.find((pair) => isIdentity(pair) && this.#identity.get(pair[0]) !== pair[1]);
      if (late) throw new LoginFailure('InitiatorError', `${late[0]} after the first login request`);
      pairs = pairs.filter((pair) => !isIdentity(pair));
    }

    const stage = req.csg === Stage.Security ? 'security' : 'operational';
    const security = pairs.filter(([k]) => SECURITY_KEYS.has(k));
    const others = pairs.filter(([k]) => !SECURITY_KEYS.has(k));
    const answers: TextPair[] = [];

    if (stage === 'security') {
      answers.push(...this.#security(security));
    } else {
      if (security.length > 0) throw new LoginFailure('InitiatorError', `security key ${security[0]![0]} in the operational stage`);
      // A target that demands CHAP never lets an initiator skip to operational negotiation.
      if (this.#authRequired && !this.#authDone) throw new LoginFailure('AuthenticationFailure', 'operational stage requested before authentication');
    }

    answers.push(...this.#negotiator.respond(others, { stage, sessionType: this.#sessionType, leading: this.#first!.tsih === 0 }));

    let transit = req.transit;
    if (transit && stage === 'security' && this.#authRequired && !this.#authDone) {
      if (this.#authMethod === undefined) throw new LoginFailure('AuthenticationFailure', 'initiator left the security stage without authenticating');
      transit = false; // RFC 7143 §6.3: the target may hold the initiator in the stage until CHAP completes
    }

    if (!this.#declaredIdentity && this.#sessionType === 'Normal') {
      // RFC 7143 §13.9: TargetPortalGroupTag in the first Login Response of a normal session.
      this.#declaredIdentity = true;
      answers.push(['TargetPortalGroupTag', String(this.#ctx.portalGroupTag ?? this.#target!.portalGroupTag)]);
      if (this.#target!.alias) answers.push(['TargetAlias', this.#target!.alias]);
    }
    if (!this.#declaredLimits && (stage === 'operational' || (transit && req.nsg === Stage.FullFeature))) {
      // RFC 7143 §13.12: declare what we accept before full feature phase.
      this.#declaredLimits = true;
      answers.push(...this.#negotiator.targetDeclarations());
    }
    return this.#emit(req, { data: encodeTextPairs(answers), transit, nsg: req.nsg });
  }

  /** RFC 7143 §11.12: header rules that hold for every request of the login phase. */
  #checkHeader(req: LoginRequestPdu): void {
    if (!this.#first) {
      // RFC 7143 §11.12.4: Version-min above what we speak → unsupported version.
      if (req.versionMin > ISCSI_VERSION) throw new LoginFailure('UnsupportedVersion', `Version-min ${req.versionMin} > ${ISCSI_VERSION}`);
      this.#first = { versionMax: req.versionMax, versionMin: req.versionMin, isid: Buffer.from(req.isid), tsih: req.tsih, cid: req.cid, cmdSN: req.cmdSN };
    } else {
      const f = this.#first;
      // RFC 7143 §11.12.4, §11.12.5: versions, ISID, TSIH and CID are fixed for the whole login phase.
      if (req.versionMax !== f.versionMax || req.versionMin !== f.versionMin) throw new LoginFailure('InitiatorError', 'Version-max/min changed during login');
      if (!req.isid.equals(f.isid) || req.tsih !== f.tsih || req.cid !== f.cid) throw new LoginFailure('InitiatorError', 'ISID, TSIH or CID changed during login');
    }
    // RFC 7143 §11.12.2: T and C may not both be set.
    if (req.transit && req.continue) throw new LoginFailure('InitiatorError', 'T and C bits both set');
    if (req.csg !== Stage.Security && req.csg !== Stage.Operational) throw new LoginFailure('InitiatorError', `CSG ${req.csg} is not a login stage`);
    if (this.#stage === undefined) this.#stage = req.csg;
    else if (req.csg !== this.#stage) throw new LoginFailure('InitiatorError', `CSG ${req.csg} but the current stage is ${this.#stage}`);
    if (req.transit && (req.nsg <= req.csg || (req.nsg !== Stage.Operational && req.nsg !== Stage.FullFeature))) {
      throw new LoginFailure('InitiatorError', `invalid transition CSG ${req.csg} → NSG ${req.nsg}`);
    }
  }

  /** First complete request: who is logging in, to what, and what authentication that needs. */
  #identify(pairs: readonly TextPair[], req: LoginRequestPdu): void {
    const keys = new Map(pairs);
    const initiatorName = keys.get('InitiatorName');
    // RFC 7143 §13.5: InitiatorName must be in the first Login Request.
    if (!initiatorName) throw new LoginFailure('MissingParameter', 'InitiatorName missing from the first login request');
    if (Buffer.byteLength(initiatorName) > keySpec('InitiatorName')!.maxValueBytes!) throw new LoginFailure('InitiatorError', 'InitiatorName longer than 223 bytes');
    const sessionType = keys.get('SessionType') ?? 'Normal';
    if (sessionType !== 'Normal' && sessionType !== 'Discovery') throw new LoginFailure('SessionTypeNotSupported', `SessionType ${JSON.stringify(sessionType.slice(0, 64))}`);
    this.#initiatorName = initiatorName;
    this.#sessionType = sessionType;
    this.#identified = true;
    for (const [k, v] of pairs) if ((IDENTITY_KEYS as readonly string[]).includes(k)) this.#identity.set(k, v);

    if (sessionType === 'Normal') {
      const targetName = keys.get('TargetName');
      // RFC 7143 §13.4: a normal session names its target in the first Login Request.
      if (!targetName) throw new LoginFailure('MissingParameter', 'TargetName missing for a normal session');
      const target = this.#ctx.directory.findTarget(targetName);
      if (!target) throw new LoginFailure('NotFound', `no target ${JSON.stringify(targetName.slice(0, 223))}`);
      if (!this.#ctx.directory.allowInitiator(target, initiatorName)) throw new LoginFailure('AuthorizationFailure', `${JSON.stringify(initiatorName)} may not access ${target.name}`);
      this.#target = target;
      // RFC 7143 §6.3.1: a non-zero TSIH must name an existing session of this I_T nexus.
      if (req.tsih !== 0 && this.#ctx.sessionExists && !this.#ctx.sessionExists(req.tsih, req.isid, initiatorName, target)) {
        throw new LoginFailure('SessionDoesNotExist', `no session with TSIH ${req.tsih}`);
      }
    } else if (req.tsih !== 0) {
      // Discovery sessions are single-connection: nothing to join.
      throw new LoginFailure('SessionDoesNotExist', 'discovery login with a non-zero TSIH');
    }
    this.#creds = this.#ctx.directory.chapFor(this.#target ?? 'discovery', initiatorName);
    this.#authRequired = this.#creds !== undefined || this.#target?.auth === 'CHAP';
    if (this.#authRequired && !this.#creds) throw new LoginFailure('AuthenticationFailure', `no CHAP credentials for ${JSON.stringify(initiatorName)}`);
  }

  /** Security stage keys: AuthMethod (RFC 7143 §12), then CHAP (§12.1.3). */
  #security(pairs: readonly TextPair[]): TextPair[] {
    const answers: TextPair[] = [];
    const keys = new Map(pairs);
    const offered = keys.get('AuthMethod');
    keys.delete('AuthMethod');
    if (offered !== undefined) {
      if (this.#authMethod !== undefined) throw new LoginFailure('InitiatorError', 'AuthMethod negotiated twice');
      const list = offered.split(',');
      if (this.#authRequired) {
        if (!list.includes('CHAP')) throw new LoginFailure('AuthenticationFailure', `target requires CHAP, initiator offered ${JSON.stringify(offered.slice(0, 64))}`);
        this.#authMethod = 'CHAP';
        this.#chap = new ChapResponder(this.#creds!, this.#ctx.chap);
      } else {
        // RFC 7143 §6.2.1: the first offered value we support; without credentials that is only None.
        if (!list.includes('None')) throw new LoginFailure('AuthenticationFailure', `no credentials configured for ${JSON.stringify(offered.slice(0, 64))}`);
        this.#authMethod = 'None';
      }
      answers.push(['AuthMethod', this.#authMethod]);
    }
    if (keys.size > 0 && this.#authMethod !== 'CHAP') throw new LoginFailure('InitiatorError', 'CHAP keys without AuthMethod=CHAP');
    if (this.#chap) {
      answers.push(...this.#chap.step(keys));
      if (this.#chap.state === 'done') this.#authDone = true;
    }
    return answers;
  }

  /** Send a reply, splitting text above the login limit with the C bit (RFC 7143 §6.1, §11.13.2). */
  #emit(req: LoginRequestPdu, reply: Reply): LoginStep {
    const chunks = splitText(reply.data, LOGIN_TEXT_LIMIT);
    if (chunks.length > 1) {
      this.#pendingOut = { chunks: chunks.slice(1), reply };
      return { kind: 'continue', response: this.#response(req, { data: chunks[0]!.data, transit: false, continue: true, nsg: 0 }) };
    }
    return this.#finish(req, reply);
  }

  /** The initiator acknowledges a partial response with an empty request (RFC 7143 §11.12.2). */
  #continueOutput(req: LoginRequestPdu): LoginStep {
    if (req.continue || req.data.length > 0) throw new LoginFailure('InitiatorError', 'new text while the target response is being continued');
    const pending = this.#pendingOut!;
    const chunk = pending.chunks.shift()!;
    if (pending.chunks.length > 0) return { kind: 'continue', response: this.#response(req, { data: chunk.data, transit: false, continue: true, nsg: 0 }) };
    this.#pendingOut = undefined;
    return this.#finish(req, { ...pending.reply, data: chunk.data });
  }

  #finish(req: LoginRequestPdu, reply: Reply): LoginStep {
    if (reply.transit && reply.nsg === Stage.FullFeature) return this.#complete(req, reply);
    if (reply.transit) this.#stage = reply.nsg;
    return this.#continue(req, reply);
  }

  #continue(req: LoginRequestPdu, reply: Reply): LoginStep {
    return { kind: 'continue', response: this.#response(req, { data: reply.data, transit: reply.transit, continue: false, nsg: reply.transit ? reply.nsg : 0 }) };
  }

  #complete(req: LoginRequestPdu, reply: Reply): LoginStep {
    this.#state = 'complete';
    const first = this.#first!;
    const outcome: LoginOutcome = {
      sessionType: this.#sessionType,
      initiatorName: this.#initiatorName,
      ...(this.#negotiator.initiatorAlias !== undefined ? { initiatorAlias: this.#negotiator.initiatorAlias } : {}),
      ...(this.#target ? { target: this.#target } : {}),
      isid: first.isid,
      tsih: first.tsih,
      cid: first.cid,
      cmdSN: first.cmdSN,
      params: this.#negotiator.params(),
      authMethod: this.#authDone ? 'CHAP' : 'None',
      mutualChap: this.#chap?.mutual ?? false,
    };
    let answered = false;
    const once = () => {
      if (answered) throw new Error('login already answered');
      answered = true;
    };
    return {
      kind: 'complete',
      outcome,
      accept: (tsih, sequence) => {
        once();
        if (!Number.isInteger(tsih) || tsih < 1 || tsih > 0xffff) throw new RangeError(`TSIH ${tsih} out of 1..65535`);
        return this.#response(req, { data: reply.data, transit: true, continue: false, nsg: Stage.FullFeature, tsih }, sequence);
      },
      refuse: (status, reason) => {
        once();
        this.#state = 'failed';
        this.#ctx.log?.(`login refused: ${LoginStatus[status].description}: ${reason}`);
        return this.#failureResponse(req, status);
      },
    };
  }

  #fail(req: LoginRequestPdu, failure: LoginFailure): LoginStep {
    this.#state = 'failed';
    this.#acc.reset();
    this.#ctx.log?.(`login failed: ${failure.message}`);
    return { kind: 'failed', response: this.#failureResponse(req, failure.status), status: failure.status, reason: failure.message };
  }

  #failureResponse(req: LoginRequestPdu, status: LoginStatusName): LoginResponsePdu {
    const code = LoginStatus[status];
    return this.#response(req, { data: EMPTY, transit: false, continue: false, nsg: 0, statusClass: code.statusClass, statusDetail: code.statusDetail });
  }

  #response(
    req: LoginRequestPdu,
    f: { data: Buffer; transit: boolean; continue: boolean; nsg: number; tsih?: number; statusClass?: number; statusDetail?: number },
    override?: Partial<LoginSequenceNumbers>,
  ): LoginResponsePdu {
    const seq = this.#ctx.sequence?.(req) ?? { statSN: 0, expCmdSN: req.cmdSN, maxCmdSN: req.cmdSN };
    return {
      opcode: Opcode.LoginResponse,
      ahs: EMPTY,
      data: f.data,
      transit: f.transit,
      continue: f.continue,
      csg: req.csg,
      nsg: f.nsg,
      // RFC 7143 §11.13.2/§11.13.3: we speak version 0 only.
      versionMax: ISCSI_VERSION,
      versionActive: ISCSI_VERSION,
      isid: Buffer.from(req.isid),
      tsih: f.tsih ?? req.tsih,
      itt: req.itt,
      statSN: override?.statSN ?? seq.statSN,
      expCmdSN: override?.expCmdSN ?? seq.expCmdSN,
      maxCmdSN: override?.maxCmdSN ?? seq.maxCmdSN,
      statusClass: f.statusClass ?? 0,
      statusDetail: f.statusDetail ?? 0,
    };
  }
}
