// The Linux initiator (open-iscsi in the Debian test guest under QEMU) against bin/openlun target: discovery,
// CHAP login with CRC32C header and data digests, mkfs.ext4, files written, remounted and verified, logout.
// Slow (a guest boot under TCG): part of `npm test` because nothing else here exercises the kernel initiator
// or data digests. OPENLUN_SKIP_GUEST=1 skips it on a machine without the guest (see e2e/guest/README.md).
import { test } from 'node:test';
import { runOpenIscsiE2E } from './open-iscsi.ts';

const skip = process.env['OPENLUN_SKIP_GUEST'] === '1' ? 'OPENLUN_SKIP_GUEST=1' : false;

test('open-iscsi in a Debian guest: discovery, CHAP + digests, ext4 round trip', { skip, timeout: 20 * 60_000 }, async (t) => {
  await runOpenIscsiE2E({ log: (l) => t.diagnostic(l) });
});
