// Who may log in, checked with libiscsi's command-line initiators (iscsi-inq, iscsi-ls): initiator
// name ACLs, one-way and mutual CHAP (RFC 7143 §12.1.3), and SendTargets discovery (§11.10,
// Appendix C). Credentials reach libiscsi through its environment variables, never argv.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSparseFile, makeTempDir, MiB, type TempDir } from './helpers/files.ts';
import { describeRun, run } from './helpers/run.ts';
import { startTarget, type RunningTarget } from './helpers/targets.ts';

const ALLOWED = 'iqn.2026-11.org.openlun:allowed-host';
const STRANGER = 'iqn.2026-11.org.openlun:stranger';
const CHAP = { user: 'e2e-initiator', secret: 'initiator-secret-1' } as const;
const MUTUAL = { user: 'e2e-target', secret: 'target-secret-22' } as const;

let dir: TempDir;
before(async () => {
  dir = await makeTempDir('openlun-access-');
});
after(async () => {
  await dir?.remove();
});

interface Login {
  initiator?: string;
  chap?: { user: string; secret: string };
  /** What the initiator expects the target to answer with (mutual CHAP). */
  targetChap?: { user: string; secret: string };
}

/** INQUIRY through a full login; the environment carries the CHAP secrets. */
function inquiry(target: RunningTarget, login: Login = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['LIBISCSI_CHAP_USERNAME', 'LIBISCSI_CHAP_PASSWORD',
    'LIBISCSI_CHAP_TARGET_USERNAME', 'LIBISCSI_CHAP_TARGET_PASSWORD']) delete env[k];
  if (login.chap) {
    env['LIBISCSI_CHAP_USERNAME'] = login.chap.user;
    env['LIBISCSI_CHAP_PASSWORD'] = login.chap.secret;
  }
  if (login.targetChap) {
    env['LIBISCSI_CHAP_TARGET_USERNAME'] = login.targetChap.user;
    env['LIBISCSI_CHAP_TARGET_PASSWORD'] = login.targetChap.secret;
  }
  return run(['iscsi-inq', '-i', login.initiator ?? ALLOWED, target.url(0)], { env, timeoutMs: 20_000 });
}

describe('initiator name ACL', { timeout: 2 * 60_000 }, () => {
  let target: RunningTarget;
  before(async () => {
    target = await startTarget({
      luns: [await createSparseFile(dir.file('acl.img'), 16 * MiB)],
      initiators: [ALLOWED],
    });
  });
  after(async () => {
    await target?.stop();
  });

  test('a listed initiator logs in and gets standard INQUIRY data', async () => {
    const r = await inquiry(target, { initiator: ALLOWED });
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, /Peripheral Device Type|Vendor Identification|vendor/i, describeRun(r));
  });

  test('an initiator not on the list is refused', async () => {
    const r = await inquiry(target, { initiator: STRANGER });
    assert.notEqual(r.code, 0, `a stranger logged in:\n${describeRun(r)}`);
  });

  test('an initiator that offers CHAP to a target that does not ask for it logs in (AuthMethod None)', async () => {
    // libiscsi then repeats InitiatorName/TargetName/SessionType, unchanged, in its operational-stage request
    const r = await inquiry(target, { initiator: ALLOWED, chap: CHAP });
    assert.equal(r.code, 0, describeRun(r));
  });
});

describe('CHAP', { timeout: 2 * 60_000 }, () => {
  let target: RunningTarget;
  before(async () => {
    target = await startTarget({
      luns: [await createSparseFile(dir.file('chap.img'), 16 * MiB)],
      chap: CHAP,
      mutualChap: MUTUAL,
      secretsVia: 'env', // qemu-img.test.ts covers --chap on the command line
    });
  });
  after(async () => {
    await target?.stop();
  });

  test('mutual CHAP: both sides prove the secret and the login succeeds', async () => {
    const r = await inquiry(target, { chap: CHAP, targetChap: MUTUAL });
    assert.equal(r.code, 0, describeRun(r));
  });

  test('mutual CHAP: an initiator expecting another target secret rejects the target', async () => {
    const r = await inquiry(target, { chap: CHAP, targetChap: { user: MUTUAL.user, secret: 'not-the-target-0' } });
    assert.notEqual(r.code, 0, `the target's CHAP response matched a wrong secret:\n${describeRun(r)}`);
  });

  test('a wrong initiator secret is refused', async () => {
    const r = await inquiry(target, { chap: { user: CHAP.user, secret: 'wrong-secret-123' } });
    assert.notEqual(r.code, 0, `logged in with a wrong secret:\n${describeRun(r)}`);
  });

  test('an unknown CHAP user is refused', async () => {
    const r = await inquiry(target, { chap: { user: 'nobody', secret: CHAP.secret } });
    assert.notEqual(r.code, 0, `logged in as an unknown user:\n${describeRun(r)}`);
  });

  test('no credentials are refused', async () => {
    const r = await inquiry(target);
    assert.notEqual(r.code, 0, `logged in without CHAP:\n${describeRun(r)}`);
  });
});

describe('SendTargets discovery', { timeout: 2 * 60_000 }, () => {
  let target: RunningTarget;
  before(async () => {
    target = await startTarget({ luns: [await createSparseFile(dir.file('disc.img'), 16 * MiB)] });
  });
  after(async () => {
    await target?.stop();
  });

  test('iscsi-ls finds the target and its portal', async () => {
    const r = await run(['iscsi-ls', '--url', `iscsi://${target.portal}`], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, describeRun(r));
    assert.ok(r.stdout.includes(`iscsi://${target.portal}/${target.iqn}`), describeRun(r));
  });
});
