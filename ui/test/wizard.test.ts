import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../src/api.ts';
import { PRESETS, PRESET_IDS } from '../src/presets.ts';
import {
  WIZARD_STEPS,
  applyPreset,
  buildPlan,
  cidrProblem,
  fieldOfApiError,
  firstInvalidStep,
  initialValues,
  iscsiNameProblem,
  presetOverrides,
  runPlan,
  undoCreated,
  undoOrder,
  validateStep,
  wizardIqn,
  type WizardApi,
  type WizardContext,
  type WizardValues,
} from '../src/wizard-steps.ts';

const ctx: WizardContext = {
  baseIqn: 'iqn.2026-11.com.example',
  lunNames: ['taken'],
  targetIqns: ['iqn.2026-11.com.example:taken'],
  groupNames: ['busy-hosts'],
  locations: ['file', 'vg:vg0', 'pool:vg0/thin0'],
};

function filled(over: Partial<WizardValues> = {}): WizardValues {
  return {
    ...initialValues('esxi'),
    lunName: 'vmfs01',
    size: '2',
    unit: 'GiB',
    targetName: 'esxi-cluster',
    initiators: 'iqn.1998-01.com.vmware:esx01-4c4c4544\niqn.1998-01.com.vmware:esx02-4c4c4544',
    chapMode: 'one-way',
    chapUser: 'esxuser',
    chapSecret: 'a-long-chap-secret',
    ...over,
  };
}

test('steps: LUN → target → who may connect → authentication → summary', () => {
  assert.deepEqual(WIZARD_STEPS.map((s) => s.id), ['lun', 'target', 'access', 'auth', 'summary']);
});

test('presets: each sets block size, write cache and LUN number, and says why for every setting', () => {
  for (const id of PRESET_IDS) {
    const v = applyPreset(initialValues('linux'), id);
    assert.equal(v.blockSize, String(PRESETS[id].blockSize));
    assert.equal(v.writeCache, PRESETS[id].writeCache);
    assert.equal(v.lunNumber, String(PRESETS[id].lunNumber));
    assert.ok(PRESETS[id].settings.length >= 4, id);
    for (const s of PRESETS[id].settings) assert.match(s.why, /\w{3}/, `${id} ${s.name} says why`);
  }
  assert.equal(applyPreset(initialValues('esxi'), 'linux').blockSize, '4096');
  const esxi = PRESETS.esxi.settings.map((s) => `${s.name}=${s.value}`);
  assert.ok(esxi.includes('Block size=512 bytes') && esxi.includes('ATS (VAAI)=on'), esxi.join());
  assert.ok(PRESETS.hyperv.settings.some((s) => s.name === 'Persistent reservations' && /always supports/.test(s.why)));
});

test('presets keep what was typed; overriding a preset value is reported, not silent', () => {
  const typed = filled({ lunName: 'keepme', size: '7' });
  const v = applyPreset(typed, 'linux');
  assert.equal(v.lunName, 'keepme');
  assert.equal(v.size, '7');
  assert.equal(v.targetName, 'esxi-cluster');
  assert.deepEqual(presetOverrides(v), []);
  assert.deepEqual(presetOverrides({ ...v, blockSize: '512', lunNumber: '3' }), ['block size 512 (the preset sets 4096)', 'LUN number 3 (the preset sets 0)']);
});

test('LUN step: name rules, duplicate name, size, location, LUN number range', () => {
  assert.deepEqual(validateStep('lun', filled(), ctx), {});
  const e = validateStep('lun', filled({ lunName: '../etc', size: '0.5', unit: 'MiB', location: 'vg:nope', lunNumber: '16384' }), ctx);
  assert.deepEqual(Object.keys(e).sort(), ['location', 'lunName', 'lunNumber', 'size']);
  assert.equal(e['size'], 'must be at least 1 MiB');
  assert.equal(validateStep('lun', filled({ lunName: 'taken' }), ctx)['lunName'], 'already exists');
  assert.equal(validateStep('lun', filled({ lunName: '' }), ctx)['lunName'], 'is required');
  assert.equal(validateStep('lun', filled({ lunName: 'a;rm -rf' }), ctx)['lunName']?.startsWith('must be'), true);
  assert.deepEqual(validateStep('lun', filled({ lunNumber: '16383' }), ctx), {});
});

test('target step: IQN from base + name, a full IQN overrides it; bad and taken IQNs named on the right field', () => {
  assert.equal(wizardIqn(filled(), ctx), 'iqn.2026-11.com.example:esxi-cluster');
  assert.equal(wizardIqn(filled({ targetIqn: 'IQN.2026-01.COM.Example:X' }), ctx), 'iqn.2026-01.com.example:x');
  assert.deepEqual(validateStep('target', filled(), ctx), {});
  assert.match(validateStep('target', filled({ targetName: '' }), ctx)['targetName'] ?? '', /give the target a name/);
  assert.match(validateStep('target', filled({ targetIqn: 'iqn.bad' }), ctx)['targetIqn'] ?? '', /RFC 7143 §4\.2\.7\.2/);
  assert.equal(validateStep('target', filled({ targetName: 'taken' }), ctx)['targetName'], 'iqn.2026-11.com.example:taken already exists');
  assert.match(validateStep('target', filled({ alias: 'a$b' }), ctx)['alias'] ?? '', /1-64 characters/);
});

test('access step: at least one initiator or network (deny by default); each checked', () => {
  assert.deepEqual(validateStep('access', filled(), ctx), {});
  assert.match(validateStep('access', filled({ initiators: '', networks: '' }), ctx)['initiators'] ?? '', /at least one/);
  assert.deepEqual(validateStep('access', filled({ initiators: '', networks: '192.0.2.0/24' }), ctx), {});
  assert.match(validateStep('access', filled({ initiators: 'iqn.1998-01.com.vmware:ok foo' }), ctx)['initiators'] ?? '', /^foo must start with iqn\./);
  assert.match(validateStep('access', filled({ networks: '192.0.2.0/33' }), ctx)['networks'] ?? '', /prefix length must be 0-32/);
  assert.match(validateStep('access', filled({ targetName: 'busy' }), ctx)['initiators'] ?? '', /busy-hosts already exists/);
  assert.equal(cidrProblem('2001:db8::/32'), undefined);
  assert.equal(cidrProblem('300.1.1.1/8'), 'must be a network like 192.0.2.0/24 or 2001:db8::/32');
  assert.equal(iscsiNameProblem('eui.0123456789ABCDEF'), undefined);
  assert.match(iscsiNameProblem(`iqn.2026-11.com.example:${'x'.repeat(230)}`) ?? '', /223 bytes/);
});

test('auth step: CHAP lengths (RFC 7143 §12.1.3), mutual secret must differ; none needs nothing', () => {
  assert.deepEqual(validateStep('auth', filled({ chapMode: 'none', chapUser: '', chapSecret: '' }), ctx), {});
  assert.deepEqual(validateStep('auth', filled(), ctx), {});
  const e = validateStep('auth', filled({ chapUser: '', chapSecret: 'short' }), ctx);
  assert.deepEqual(e, { chapUser: 'is required', chapSecret: 'must be 12-255 characters (RFC 7143 §12.1.3)' });
  assert.equal(validateStep('auth', filled({ chapSecret: 'has a space in it' }), ctx)['chapSecret'], 'must be printable ASCII without spaces');
  const same = validateStep('auth', filled({ chapMode: 'mutual', mutualUser: 'tgt', mutualSecret: 'a-long-chap-secret' }), ctx);
  assert.match(same['mutualSecret'] ?? '', /must differ/);
  assert.deepEqual(validateStep('auth', filled({ chapMode: 'mutual', mutualUser: 'tgt', mutualSecret: 'another-secret-1' }), ctx), {});
});

test('firstInvalidStep finds the earliest step with a problem (Create sends the admin back there)', () => {
  assert.equal(firstInvalidStep(filled(), ctx), undefined);
  assert.equal(firstInvalidStep(filled({ chapSecret: 'x' }), ctx)?.step, 3);
  assert.equal(firstInvalidStep(filled({ chapSecret: 'x', targetName: 'taken' }), ctx)?.step, 1);
});

test('plan: file, linear LV and thin LV bodies; group named after the target; CHAP only when chosen', () => {
  const p = buildPlan(filled(), ctx);
  assert.deepEqual(p.lun, { name: 'vmfs01', sizeBytes: 2 * 2 ** 30, blockSize: 512, writeCache: 'write-back', backing: 'file' });
  assert.deepEqual(p.target, { iqn: 'iqn.2026-11.com.example:esxi-cluster', alias: null });
  assert.equal(p.lunNumber, 0);
  assert.deepEqual(p.group, { name: 'esxi-cluster-hosts', initiators: ['iqn.1998-01.com.vmware:esx01-4c4c4544', 'iqn.1998-01.com.vmware:esx02-4c4c4544'], networks: [] });
  assert.deepEqual(p.chap, { username: 'esxuser', secret: 'a-long-chap-secret' });
  assert.deepEqual(buildPlan(filled({ location: 'pool:vg0/thin0' }), ctx).lun, { name: 'vmfs01', sizeBytes: 2 * 2 ** 30, blockSize: 512, writeCache: 'write-back', backing: 'lv', vg: 'vg0', pool: 'thin0' });
  assert.deepEqual(buildPlan(filled({ location: 'vg:vg0', preset: 'linux', blockSize: '4096' }), ctx).lun, { name: 'vmfs01', sizeBytes: 2 * 2 ** 30, blockSize: 4096, writeCache: 'write-back', backing: 'lv', vg: 'vg0' });
  assert.equal(buildPlan(filled({ chapMode: 'none' }), ctx).chap, undefined);
  assert.deepEqual(buildPlan(filled({ chapMode: 'mutual', mutualUser: 'tgt', mutualSecret: 'another-secret-1' }), ctx).chap, {
    username: 'esxuser', secret: 'a-long-chap-secret', mutualUsername: 'tgt', mutualSecret: 'another-secret-1',
  });
});

/** A fake API that records calls and fails the named one with an ApiError. */
function fakeApi(failOn?: string, fieldErr?: { field: string; message: string }) {
  const calls: string[] = [];
  let id = 10;
  const step = async <T>(name: string, out: T): Promise<T> => {
    calls.push(name);
    if (name === failOn) throw new ApiError(fieldErr ? 400 : 409, 'x', `${name} refused`, fieldErr ? [fieldErr] : []);
    return out;
  };
  const api: WizardApi = {
    createStorageLun: (l) => step('lun', { id: ++id, name: l.name }),
    createTarget: (iqn) => step('target', { id: ++id, iqn }),
    createMapping: () => step('mapping', { id: ++id }),
    createInitiatorGroup: (name) => step('group', { id: ++id, name }),
    createAcl: () => step('acl', { id: ++id }),
    setTargetChap: () => step('chap', {}),
    deleteLun: async (i, data) => void calls.push(`-lun ${i} ${data}`),
    deleteTarget: async (i) => void calls.push(`-target ${i}`),
    deleteMapping: async (i) => void calls.push(`-mapping ${i}`),
    deleteInitiatorGroup: async (i) => void calls.push(`-group ${i}`),
    deleteAcl: async (i) => {
      calls.push(`-acl ${i}`);
      if (failOn === '-acl') throw new Error('acl is busy');
    },
    deleteTargetChap: async (i) => void calls.push(`-chap ${i}`),
  };
  return { api, calls };
}

test('run: creates in order and ends with the target id', async () => {
  const { api, calls } = fakeApi();
  const r = await runPlan(api, buildPlan(filled(), ctx));
  assert.deepEqual(calls, ['lun', 'target', 'mapping', 'group', 'acl', 'chap']);
  assert.equal(r.failed, undefined);
  assert.equal(r.targetId, 12);
  assert.deepEqual(r.created.map((c) => c.label), [
    'LUN vmfs01',
    'target iqn.2026-11.com.example:esxi-cluster',
    'mapping of LUN vmfs01 as LUN 0',
    'initiator group esxi-cluster-hosts',
    'access rule letting initiator group esxi-cluster-hosts in',
    'one-way CHAP for user esxuser',
  ]);
});

test('run: a later failure says exactly what exists; undo removes it newest first; retry continues, never duplicates', async () => {
  const { api, calls } = fakeApi('group', { field: 'initiators/0', message: 'initiators/0 is bad' });
  const r = await runPlan(api, buildPlan(filled(), ctx));
  assert.equal(r.failed?.kind, 'group');
  assert.deepEqual(r.created.map((c) => c.kind), ['lun', 'target', 'mapping']);
  assert.equal(r.targetId, 12);
  // the API's field message belongs next to the initiators box on the access step
  const err = r.failed!.error as ApiError;
  assert.deepEqual(fieldOfApiError('group', Object.keys(err.byField())[0]!, filled()), { step: 'access', field: 'initiators' });
  // retry after the fix: only what is missing is created
  const again = fakeApi();
  const r2 = await runPlan(again.api, buildPlan(filled(), ctx), r.created);
  assert.deepEqual(again.calls, ['group', 'acl', 'chap']);
  assert.equal(r2.failed, undefined);
  assert.equal(r2.created.length, 6);
  // undo: reverse order, the LUN with its data
  calls.length = 0;
  const u = await undoCreated(api, r.created);
  assert.deepEqual(calls, ['-mapping 13', '-target 12', '-lun 11 true']);
  assert.equal(u.left.length, 0);
  assert.equal(u.removed.length, 3);
});

test('undo: what cannot be removed is reported with the reason, the rest still goes', async () => {
  const { api } = fakeApi('-acl');
  const created = (await runPlan(fakeApi().api, buildPlan(filled(), ctx))).created;
  const u = await undoCreated(api, created);
  assert.deepEqual(u.left.map((l) => [l.item.kind, l.error]), [['acl', 'acl is busy']]);
  assert.deepEqual(u.removed.map((c) => c.kind), ['chap', 'group', 'mapping', 'target', 'lun']);
  assert.deepEqual(undoOrder(created).map((c) => c.kind), ['chap', 'acl', 'group', 'mapping', 'target', 'lun']);
});

test('API field errors map to the wizard field that produced them', () => {
  assert.deepEqual(fieldOfApiError('lun', 'name', filled()), { step: 'lun', field: 'lunName' });
  assert.deepEqual(fieldOfApiError('lun', 'sizeBytes', filled()), { step: 'lun', field: 'size' });
  assert.deepEqual(fieldOfApiError('target', 'iqn', filled()), { step: 'target', field: 'targetName' });
  assert.deepEqual(fieldOfApiError('target', 'iqn', filled({ targetIqn: 'iqn.2026-01.com.x:y' })), { step: 'target', field: 'targetIqn' });
  assert.deepEqual(fieldOfApiError('chap', 'secret', filled()), { step: 'auth', field: 'chapSecret' });
  assert.equal(fieldOfApiError('acl', 'groupId', filled()), undefined);
});
