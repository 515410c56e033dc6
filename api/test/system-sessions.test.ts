// DELETE /api/sessions/:tsih over app.inject against a real targetd runtime and control socket, with raw iSCSI
// initiators: one that obeys the logout request (RFC 7143 §11.9.1 AsyncEvent 1) and one that ignores it and is
// dropped after Parameter3 seconds. Admin only, audited, 404 for no such session, 400 for a bad TSIH, 503 without
// targetd.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Opcode } from 'node-iscsi-pdu';
import type { AsyncMessagePdu } from 'node-iscsi-pdu';
import { liveRoutes } from '../src/routes/live.ts';
import { TargetClient } from '../src/target-client.ts';
import { startControlServer, type ControlServer } from '../../target/src/daemon/control.ts';
import { TargetRuntime } from '../../target/src/daemon/runtime.ts';
import { RawInitiator } from '../../target/test/support/raw-initiator.ts';
import { capturingLogger } from '../../target/test/support/target-fixture.ts';
import { TARGET, backstore, stateWith } from '../../target/test/daemon-fixture.ts';
import { freePort } from '../../e2e/helpers/ports.ts';
import { as, createReader, newApp, setupAdmin, type Fixture, type Session } from './support/fixture.ts';

const OBEYS = 'iqn.1994-05.com.example:obeys';
const IGNORES = 'iqn.1994-05.com.example:ignores';

interface ListedSession {
  tsih: number;
  initiatorName: string;
}

describe('DELETE /api/sessions/:tsih', { timeout: 60_000 }, () => {
  let dir: string;
  let rt: TargetRuntime;
  let control: ControlServer;
  let port: number;
  let f: Fixture;
  let admin: Session;
  let reader: Session;
  const open: RawInitiator[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openlun-end-session-'));
    port = await freePort();
    rt = new TargetRuntime({ log: capturingLogger(), nopIntervalMs: 0 });
    await rt.apply(stateWith(port, [await backstore(dir, 'a', 1)], { acl: [{ group: 'loopback', initiators: [], networks: ['127.0.0.0/8'] }] }));
    control = await startControlServer(join(dir, 'target.sock'), rt, capturingLogger());
    const target = new TargetClient(control.path, 10_000);
    f = await newApp({ extend: async (a) => void (await a.register(liveRoutes(target))) });
    admin = await setupAdmin(f.app);
    reader = await createReader(f.app, admin);
  });
  after(async () => {
    for (const i of open) i.close();
    await f?.close();
    await control?.close();
    await rt?.close(100);
    await rm(dir, { recursive: true, force: true });
  });

  const loginAs = async (initiatorName: string): Promise<RawInitiator> => {
    const ini = await RawInitiator.connect(port);
    open.push(ini);
    const r = await ini.login({ initiatorName, targetName: TARGET });
    assert.equal(r.statusClass, 0, `login of ${initiatorName}`);
    return ini;
  };
  const sessions = async (): Promise<ListedSession[]> => {
    const r = await f.app.inject({ method: 'GET', url: '/api/sessions', headers: as(reader) });
    assert.equal(r.statusCode, 200, r.body);
    return r.json();
  };
  const tsihOf = async (name: string): Promise<number> => {
    const s = (await sessions()).find((x) => x.initiatorName === name);
    assert.ok(s, `${name} is logged in`);
    return s.tsih;
  };
  /** `null`: no credentials at all */
  const end = (tsih: number | string, who: Session | null = admin) =>
    f.app.inject({ method: 'DELETE', url: `/api/sessions/${tsih}`, ...(who ? { headers: as(who) } : {}) });

  test('an initiator that obeys the logout request: 204, the session is gone, the change is audited', async () => {
    const ini = await loginAs(OBEYS);
    const tsih = await tsihOf(OBEYS);
    // the initiator's side of RFC 7143 §11.9.1: on AsyncEvent 1 it sends Logout (reason 0, close the session)
    const obeyed = (async () => {
      for (;;) {
        const pdu = await ini.next(5000);
        if (!pdu) return undefined;
        if (pdu.opcode !== Opcode.AsyncMessage) continue;
        const msg = pdu as AsyncMessagePdu;
        ini.send({ opcode: Opcode.LogoutRequest, immediate: true, reasonCode: 0, itt: ini.itt++, cid: 1, cmdSN: ini.cmdSN, expStatSN: ini.expStatSN });
        return msg;
      }
    })();
    const started = Date.now();
    const r = await end(tsih);
    assert.equal(r.statusCode, 204, r.body);
    assert.equal(r.body, '');
    const msg = await obeyed;
    assert.ok(msg, 'an Async Message arrived');
    assert.equal(msg.asyncEvent, 1, 'AsyncEvent 1: target requests logout');
    assert.equal(msg.parameter3, 2, 'Parameter3: seconds to log out in');
    assert.ok(Date.now() - started < 2000, 'a logout ends it without waiting for the deadline');
    assert.ok(await ini.waitClosed(2000), 'the connection closes after the Logout Response');
    assert.equal((await sessions()).some((s) => s.tsih === tsih), false);
    const audit = f.app.openlun.store.listAudit(20).find((a) => a.action === 'session.end');
    assert.ok(audit, 'audited');
    assert.equal(audit.object, `session ${tsih}`);
    assert.equal(audit.actor, 'admin');
    assert.deepEqual({ initiator: audit.detail['initiator'], target: audit.detail['target'], ended: audit.detail['ended'] }, { initiator: OBEYS, target: TARGET, ended: 'logged-out' });
  });

  test('an initiator that ignores it is dropped after Parameter3 seconds; others keep their sessions', async () => {
    const stubborn = await loginAs(IGNORES);
    const bystander = await loginAs(OBEYS);
    const tsih = await tsihOf(IGNORES);
    const started = Date.now();
    const r = await end(tsih);
    assert.equal(r.statusCode, 204, r.body);
    const took = Date.now() - started;
    assert.ok(took >= 2000 && took < 5000, `dropped after the 2 s deadline (took ${took} ms)`);
    assert.ok(await stubborn.waitClosed(1000));
    assert.equal(bystander.closed, false, 'the other session is untouched');
    const left = await sessions();
    assert.equal(left.some((s) => s.tsih === tsih), false);
    assert.equal(left.some((s) => s.initiatorName === OBEYS), true);
    assert.equal(f.app.openlun.store.listAudit(20).find((a) => a.action === 'session.end')?.detail['ended'], 'dropped');
  });

  test('read-only and anonymous callers may not end sessions; nothing changes', async () => {
    const tsih = await tsihOf(OBEYS);
    const audits = f.app.openlun.store.listAudit(100).length;
    const ro = await end(tsih, reader);
    assert.equal(ro.statusCode, 403, ro.body);
    const anon = await end(tsih, null);
    assert.equal(anon.statusCode, 401, anon.body);
    assert.equal((await sessions()).some((s) => s.tsih === tsih), true, 'still logged in');
    assert.equal(f.app.openlun.store.listAudit(100).length, audits, 'no audit entry for a refused request');
  });

  test('no such session: 404; a TSIH that cannot exist: 400 naming the field', async () => {
    const live = new Set((await sessions()).map((s) => s.tsih));
    const unused = [...Array(100).keys()].map((i) => 65000 + i).find((t) => !live.has(t))!;
    const missing = await end(unused);
    assert.equal(missing.statusCode, 404, missing.body);
    assert.match(missing.json().message, new RegExp(`TSIH ${unused}`));
    for (const bad of ['0', '65536', 'abc', '-1', '1.5']) {
      const r = await end(bad);
      assert.equal(r.statusCode, 400, `${bad}: ${r.body}`);
      assert.equal(r.json().fields?.[0]?.field, 'params/tsih', bad);
    }
  });

  test('the control op itself refuses a bad TSIH', async () => {
    const client = new TargetClient(control.path, 5000);
    await assert.rejects(client.request('endSession', { tsih: 'x' }), (e: Error & { code?: string }) => e.code === 'bad-request');
    await assert.rejects(client.request('endSession', { tsih: 0 }), (e: Error & { code?: string }) => e.code === 'bad-request');
    await assert.rejects(client.request('endSession', { tsih: 65001 }), (e: Error & { code?: string }) => e.code === 'not-found');
  });
});

test('DELETE /api/sessions/:tsih without targetd: 503', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'openlun-no-targetd-'));
  const target = new TargetClient(join(dir, 'absent.sock'), 1000);
  const f = await newApp({ extend: async (a) => void (await a.register(liveRoutes(target))) });
  try {
    const admin = await setupAdmin(f.app);
    const r = await f.app.inject({ method: 'DELETE', url: '/api/sessions/7', headers: as(admin) });
    assert.equal(r.statusCode, 503, r.body);
    assert.equal(r.json().error, 'target-unavailable');
  } finally {
    await f.close();
    await rm(dir, { recursive: true, force: true });
  }
});
