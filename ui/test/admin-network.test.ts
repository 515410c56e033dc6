// Administration → Network, pure logic: the client-side checks mirror the API's (dotted quad, prefix 1..32, no
// network/broadcast address, gateway inside the network), the PUT body, and the API's field names mapped to inputs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formFromState,
  isDottedQuad,
  networkBody,
  networkFieldErrors,
  newUiUrl,
  validateNetworkForm,
  type NetworkForm,
} from '../src/admin-network-logic.ts';

const IFACES = ['ens3', 'ens4'];
const good: NetworkForm = { mode: 'static', interface: 'ens3', address: '10.0.2.15', prefixLength: '24', gateway: '10.0.2.2', dns: ['10.0.2.3', '', '192.0.2.53'] };
const problems = (patch: Partial<NetworkForm>) => validateNetworkForm({ ...good, ...patch }, IFACES);

describe('network form', () => {
  test('dotted quads', () => {
    for (const ok of ['0.0.0.0', '10.0.2.15', '255.255.255.255']) assert.ok(isDottedQuad(ok), ok);
    for (const bad of ['10.0.2', '10.0.2.256', '10.0.2.015', '10.0.2.1.', 'a.b.c.d', '10.0.2.-1', ' 10.0.2.1', '']) assert.ok(!isDottedQuad(bad), bad);
  });

  test('a good static form has no problems; DHCP needs nothing', () => {
    assert.deepEqual(problems({}), {});
    assert.deepEqual(validateNetworkForm({ ...good, mode: 'dhcp', address: 'junk', interface: '' }, IFACES), {});
  });

  test('each problem is named by its input', () => {
    assert.deepEqual(Object.keys(problems({ interface: 'ens9' })), ['interface']);
    assert.match(problems({ interface: 'ens9' })['interface']!, /ens3, ens4/);
    assert.deepEqual(Object.keys(problems({ address: '10.0.2.256' })), ['address']);
    assert.deepEqual(Object.keys(problems({ address: '' })), ['address']);
    assert.match(problems({ address: '10.0.2.0' })['address']!, /network or broadcast/);
    assert.match(problems({ address: '10.0.2.255' })['address']!, /network or broadcast/);
    // a /31 and /32 have no network/broadcast addresses (RFC 3021)
    assert.deepEqual(problems({ address: '10.0.2.0', prefixLength: '31', gateway: '10.0.2.1' }), {});
    for (const p of ['0', '33', '2.5', 'x', '']) assert.deepEqual(Object.keys(problems({ prefixLength: p })), ['prefixLength'], p);
    assert.equal(problems({ gateway: '10.0.3.1' })['gateway'], 'is not in 10.0.2.15/24');
    assert.deepEqual(problems({ gateway: '10.0.3.1', prefixLength: '16' }), {});
    assert.match(problems({ gateway: '10.0.2.15' })['gateway']!, /own address/);
    assert.deepEqual(Object.keys(problems({ gateway: '10.0.2' })), ['gateway']);
    assert.deepEqual(Object.keys(problems({ dns: ['8.8.8.8', '', '8.8.8'] })), ['dns2']);
    // all at once
    assert.deepEqual(Object.keys(problems({ interface: '', address: 'x', prefixLength: '40', gateway: 'y', dns: ['z', '', ''] })).sort(), ['address', 'dns0', 'gateway', 'interface', 'prefixLength']);
  });

  test('the PUT body: trimmed, blanks left out, DNS without gaps', () => {
    assert.deepEqual(networkBody({ ...good, address: ' 10.0.2.15 ' }), { mode: 'static', interface: 'ens3', address: '10.0.2.15', prefixLength: 24, gateway: '10.0.2.2', dns: ['10.0.2.3', '192.0.2.53'] });
    assert.deepEqual(networkBody({ ...good, gateway: ' ', dns: ['', '', ''] }), { mode: 'static', interface: 'ens3', address: '10.0.2.15', prefixLength: 24 });
    assert.deepEqual(networkBody({ ...good, mode: 'dhcp' }), { mode: 'dhcp' });
  });

  test('the form from the state', () => {
    const ifaces = [{ name: 'ens3', mac: null, addresses: [] }, { name: 'ens4', mac: null, addresses: [] }];
    assert.deepEqual(formFromState({ mode: 'dhcp', interfaces: ifaces }), { mode: 'dhcp', interface: 'ens3', address: '', prefixLength: '24', gateway: '', dns: ['', '', ''] });
    assert.deepEqual(formFromState({ mode: 'static', interface: 'ens4', address: '192.0.2.9', prefixLength: 28, gateway: null, dns: ['192.0.2.1'], interfaces: ifaces }), {
      mode: 'static', interface: 'ens4', address: '192.0.2.9', prefixLength: '28', gateway: '', dns: ['192.0.2.1', '', ''],
    });
  });

  test("the API's field names land on the inputs", () => {
    assert.deepEqual(networkFieldErrors({ 'dns[1]': 'must be an IPv4 address', 'dns/2': 'must match format', gateway: 'is not in x', dns: 'too many' }), {
      dns1: 'must be an IPv4 address', dns2: 'must match format', gateway: 'is not in x', dns0: 'too many',
    });
  });

  test('the new URL keeps the scheme and port', () => {
    assert.equal(newUiUrl('https:', '8443', '192.0.2.9'), 'https://192.0.2.9:8443/');
    assert.equal(newUiUrl('https:', '', '192.0.2.9'), 'https://192.0.2.9/');
  });
});
