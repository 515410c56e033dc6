import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { openDatabase, schemaVersion } from '../src/store/db.ts';
import { StoreError } from '../src/store/errors.ts';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { iscsiNameProblem } from '../src/store/names.ts';
import { hashPassword, verifyPassword } from '../src/store/passwords.ts';
import { Store } from '../src/store/store.ts';

const ctx = { actor: 'test', ip: '127.0.0.1' };
let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'openlun-store-'));
  store = new Store({ dataDir: dir });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function auditCount(): number {
  return store.listAudit(1000).length;
}

function expectStoreError(fn: () => unknown, kind: StoreError['kind'], fields: string[] = []): StoreError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StoreError, `expected StoreError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    for (const f of fields) assert.ok(e.fields.some((p) => p.field === f), `field ${f} not named in ${JSON.stringify(e.fields)}`);
    return e;
  }
  assert.fail('expected a StoreError');
}

describe('database', () => {
  test('WAL, foreign keys and every migration applied once', () => {
    assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(schemaVersion(store.db), MIGRATIONS.at(-1)!.version);
    store.close();
    // reopening runs nothing twice
    const db = openDatabase(join(dir, 'openlun.db'));
    assert.equal((db.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number }).n, MIGRATIONS.length);
    db.close();
    store = new Store({ dataDir: dir });
  });

  test('a failing migration rolls back whole', () => {
    const file = join(dir, 'm.db');
    const bad = [...MIGRATIONS, { version: 99, name: 'broken', sql: 'CREATE TABLE half (x INTEGER); SELECT * FROM no_such_table;' }];
    assert.throws(() => openDatabase(file, bad));
    const db = openDatabase(file);
    assert.equal(schemaVersion(db), MIGRATIONS.at(-1)!.version);
    assert.equal(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'half'").get(), undefined);
    db.close();
  });

  test('machine key is created 0600 and reused', () => {
    const key = join(dir, 'machine.key');
    assert.equal(statSync(key).mode & 0o777, 0o600);
    const before = readFileSync(key, 'utf8');
    store.close();
    store = new Store({ dataDir: dir });
    assert.equal(readFileSync(key, 'utf8'), before);
  });
});

describe('iSCSI names (RFC 7143 §4.2.7)', () => {
  const good = ['iqn.2026-11.org.example:storage.lun1', 'iqn.1992-08.com.netapp:sn.1', 'eui.02004567A425678D', 'naa.52004567BA64678D', 'naa.62004567BA64678D0123456789ABCDEF', 'IQN.2026-11.ORG.EXAMPLE'];
  const bad = ['iqn.2026-13.org.example', 'iqn.26-11.org.example', 'iqn.2026-11.-org', 'iqn.2026-11.org.example:a b', 'iqn.2026-11.org.example:$(reboot)', 'eui.0200', 'naa.123', 'foo.bar', '', `iqn.2026-11.org.example:${'a'.repeat(220)}`];
  for (const n of good) test(`accepts ${n}`, () => assert.equal(iscsiNameProblem(n), undefined));
  for (const n of bad) test(`refuses ${JSON.stringify(n.slice(0, 40))}`, () => assert.notEqual(iscsiNameProblem(n), undefined));
});

describe('passwords', () => {
  test('scrypt hash verifies only the right password', async () => {
    const h = await hashPassword('correct horse battery');
    assert.match(h, /^scrypt\$/);
    assert.equal(await verifyPassword('correct horse battery', h), true);
    assert.equal(await verifyPassword('wrong horse battery', h), false);
  });
});

describe('targets, LUNs, mappings', () => {
  test('target names are normalized and unique', () => {
    const t = store.createTarget(ctx, 'IQN.2026-11.org.Example:T1', 'first');
    assert.equal(t.iqn, 'iqn.2026-11.org.example:t1');
    expectStoreError(() => store.createTarget(ctx, 'iqn.2026-11.org.example:t1'), 'conflict', ['iqn']);
    const e = expectStoreError(() => store.createTarget(ctx, 'iqn.bad', 'bad;alias'), 'invalid', ['iqn', 'alias']);
    assert.equal(e.fields.length, 2);
  });

  test('file LUN: sparse file of the size, identity assigned once and immutable', () => {
    const lun = store.createLun(ctx, { name: 'disk1', backing: 'file', sizeBytes: 64 * 1024 * 1024, blockSize: 4096 });
    const st = statSync(lun.path);
    assert.equal(st.size, 64 * 1024 * 1024);
    assert.ok(st.blocks * 512 < 1024 * 1024, 'file is sparse');
    assert.match(lun.naaId, /^3[0-9a-f]{15}$/);
    assert.match(lun.serial, /^[0-9a-f]{16}$/);
    assert.throws(() => store.db.prepare('UPDATE luns SET naa_id = ? WHERE id = ?').run('3000000000000000', lun.id), /never change/);
    const grown = store.updateLun(ctx, lun.id, { sizeBytes: 128 * 1024 * 1024, readOnly: true });
    assert.equal(grown.naaId, lun.naaId);
    assert.equal(grown.serial, lun.serial);
    assert.equal(statSync(lun.path).size, 128 * 1024 * 1024);
    expectStoreError(() => store.updateLun(ctx, lun.id, { sizeBytes: 4096 }), 'invalid', ['sizeBytes']);
  });

  test('bad LUN input names every field and changes nothing', () => {
    const before = auditCount();
    const e = expectStoreError(
      () => store.createLun(ctx, { name: '../../etc/passwd', backing: 'file', sizeBytes: 1000, blockSize: 1024 as 512 }),
      'invalid',
      ['name', 'blockSize', 'sizeBytes'],
    );
    assert.ok(e.fields.length >= 3);
    expectStoreError(() => store.createLun(ctx, { name: 'x;rm -rf', backing: 'file', sizeBytes: 4096, blockSize: 512 }), 'invalid', ['name']);
    expectStoreError(() => store.createLun(ctx, { name: 'lv1', backing: 'lv', lvPath: '/dev/vg0/../sda', sizeBytes: 4096, blockSize: 512 }), 'invalid', ['lvPath']);
    assert.equal(store.listLuns().length, 0);
    assert.equal(auditCount(), before);
  });

  test('an existing pool file is never reused and the row rolls back', () => {
    writeFileSync(join(dir, 'pool', 'taken.img'), 'precious data');
    expectStoreError(() => store.createLun(ctx, { name: 'taken', backing: 'file', sizeBytes: 4096, blockSize: 512 }), 'conflict', ['name']);
    assert.equal(store.listLuns().length, 0);
    assert.equal(readFileSync(join(dir, 'pool', 'taken.img'), 'utf8'), 'precious data');
  });

  test('LUN numbers are unique per target, 0-1023; mapped LUNs need force to delete', () => {
    const t = store.createTarget(ctx, 'iqn.2026-11.org.example:t');
    const a = store.createLun(ctx, { name: 'a', backing: 'file', sizeBytes: 4096, blockSize: 512 });
    const b = store.createLun(ctx, { name: 'b', backing: 'file', sizeBytes: 4096, blockSize: 512 });
    store.createMapping(ctx, t.id, 0, a.id);
    expectStoreError(() => store.createMapping(ctx, t.id, 0, b.id), 'conflict', ['lun']);
    expectStoreError(() => store.createMapping(ctx, t.id, 1024, b.id), 'invalid', ['lun']);
    expectStoreError(() => store.createMapping(ctx, t.id, 5, a.id), 'conflict', ['lunId']);
    store.createMapping(ctx, t.id, 1023, b.id);
    expectStoreError(() => store.deleteLun(ctx, a.id), 'in-use');
    store.deleteLun(ctx, a.id, { force: true, deleteData: true });
    assert.deepEqual(store.listMappings(t.id).map((m) => m.lun), [1023]);
    assert.throws(() => statSync(a.path), /ENOENT/);
    store.deleteTarget(ctx, t.id);
    assert.equal(store.listMappings().length, 0);
  });
});

describe('initiator groups, ACLs, CHAP', () => {
  test('groups validate every IQN and CIDR; groups in use need force', () => {
    const e = expectStoreError(
      () => store.createInitiatorGroup(ctx, { name: 'esx', initiators: ['iqn.1998-01.com.vmware:esx1', 'nope'], networks: ['10.0.0.0/33', '10.0.0.0/8'] }),
      'invalid',
      ['initiators/1', 'networks/0'],
    );
    assert.equal(e.fields.length, 2);
    const g = store.createInitiatorGroup(ctx, { name: 'esx', initiators: ['iqn.1998-01.com.vmware:ESX1'], networks: ['2001:db8::/32'] });
    assert.deepEqual(g.initiators, ['iqn.1998-01.com.vmware:esx1']);
    const t = store.createTarget(ctx, 'iqn.2026-11.org.example:t');
    store.createAcl(ctx, t.id, g.id);
    expectStoreError(() => store.createAcl(ctx, t.id, g.id), 'conflict');
    expectStoreError(() => store.deleteInitiatorGroup(ctx, g.id), 'in-use');
    store.deleteInitiatorGroup(ctx, g.id, { force: true });
    assert.equal(store.listAcls().length, 0);
  });

  test('CHAP secrets are encrypted at rest, decryptable for the target, never in the audit log', () => {
    const t = store.createTarget(ctx, 'iqn.2026-11.org.example:t');
    const secret = 'SuperSecret-1234';
    const mutualSecret = 'OtherSecret-5678';
    const info = store.setChap(ctx, t.id, { username: 'esx', secret, mutualUsername: 'target', mutualSecret });
    assert.deepEqual(Object.keys(info).sort(), ['id', 'mutualUsername', 'targetId', 'username']);
    assert.deepEqual(store.chapSecrets(t.id), { username: 'esx', secret, mutual: { username: 'target', secret: mutualSecret } });
    store.close();
    for (const f of ['openlun.db', 'openlun.db-wal']) {
      let raw = '';
      try {
        raw = readFileSync(join(dir, f)).toString('latin1');
      } catch {}
      assert.ok(!raw.includes(secret) && !raw.includes(mutualSecret), `${f} holds a cleartext secret`);
    }
    store = new Store({ dataDir: dir });
    assert.equal(store.chapSecrets(t.id)?.secret, secret);
    assert.ok(!JSON.stringify(store.listAudit(100)).includes(secret));
  });

  test('CHAP rules: lengths, mutual pairs, mutual secret differs (RFC 7143 §12.1.3)', () => {
    const t = store.createTarget(ctx, 'iqn.2026-11.org.example:t');
    expectStoreError(() => store.setChap(ctx, t.id, { username: 'u', secret: 'short', mutualUsername: 'm' }), 'invalid', ['secret', 'mutualSecret']);
    expectStoreError(() => store.setChap(ctx, t.id, { username: 'u', secret: 'SameSecret-123', mutualUsername: 'm', mutualSecret: 'SameSecret-123' }), 'invalid', ['mutualSecret']);
    store.setChap(ctx, null, { username: 'disc', secret: 'DiscoverySecret1' });
    store.setChap(ctx, null, { username: 'disc2', secret: 'DiscoverySecret2' });
    assert.equal(store.listChap().length, 1);
    assert.equal(store.getChap(null)?.username, 'disc2');
  });

  test('every change is audited with who and from where', () => {
    store.createTarget({ actor: 'alice', ip: '192.0.2.7' }, 'iqn.2026-11.org.example:a');
    const [last] = store.listAudit(1);
    assert.equal(last?.actor, 'alice');
    assert.equal(last?.ip, '192.0.2.7');
    assert.equal(last?.action, 'target.create');
  });
});
