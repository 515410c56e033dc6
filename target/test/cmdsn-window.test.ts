/** CmdSNWindow: command ordering and the command window (RFC 7143 §4.2.2.1, §11.5.1). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CmdSNWindow } from '../src/iscsi/cmdsn-window.ts';

describe('CmdSNWindow', () => {
  it('delivers in-order commands at once and slides the window', () => {
    const w = new CmdSNWindow<string>(10, 8);
    assert.equal(w.expCmdSN, 10);
    assert.equal(w.maxCmdSN, 17, 'MaxCmdSN = ExpCmdSN + depth - 1');
    assert.equal(w.offer(10, 'a'), 'deliver');
    assert.deepEqual(w.drain(), []);
    assert.equal(w.offer(11, 'b'), 'deliver');
    assert.equal(w.expCmdSN, 12);
    assert.equal(w.maxCmdSN, 19);
  });

  it('queues commands that arrive early and releases them in CmdSN order once the gap fills', () => {
    const w = new CmdSNWindow<string>(1, 16);
    assert.equal(w.offer(4, 'd'), 'queued');
    assert.equal(w.offer(3, 'c'), 'queued');
    assert.equal(w.offer(2, 'b'), 'queued');
    assert.deepEqual(w.drain(), []);
    assert.equal(w.expCmdSN, 1, 'ExpCmdSN waits for the missing command');
    assert.equal(w.offer(1, 'a'), 'deliver');
    assert.deepEqual(w.drain(), ['b', 'c', 'd']);
    assert.equal(w.expCmdSN, 5);
  });

  it('ignores commands outside ExpCmdSN..MaxCmdSN and duplicates of queued ones', () => {
    const w = new CmdSNWindow<string>(100, 4);
    assert.equal(w.offer(99, 'old'), 'out-of-window');
    assert.equal(w.offer(104, 'too far'), 'out-of-window');
    assert.equal(w.offer(100 + 0x80000000, 'half way round'), 'out-of-window');
    assert.equal(w.offer(102, 'x'), 'queued');
    assert.equal(w.offer(102, 'dup'), 'out-of-window');
    assert.equal(w.expCmdSN, 100);
    assert.equal(w.offer(100, 'a'), 'deliver');
    assert.deepEqual(w.drain(), []);
    assert.equal(w.offer(101, 'b'), 'deliver');
    assert.deepEqual(w.drain(), ['x']);
  });

  it('wraps around at 2^32 (serial number arithmetic)', () => {
    const w = new CmdSNWindow<number>(0xfffffffe, 4);
    assert.equal(w.maxCmdSN, 1);
    assert.equal(w.offer(1, 1), 'queued', 'CmdSN 1 lies inside the wrapped window');
    assert.equal(w.offer(0, 0), 'queued');
    assert.equal(w.offer(0xfffffffe, -2), 'deliver');
    assert.equal(w.offer(0xffffffff, -1), 'deliver');
    assert.deepEqual(w.drain(), [0, 1]);
    assert.equal(w.expCmdSN, 2);
    assert.equal(w.maxCmdSN, 5);
    assert.equal(w.offer(0xffffffff, 9), 'out-of-window', 'a command from before the wrap is old');
  });

  it('ABORT TASK of a command not yet received: its CmdSN counts as received and a late arrival is dropped', () => {
    const w = new CmdSNWindow<string>(5, 16);
    // the TMF itself carries CmdSN 7 (immediate); it references CmdSN 6, which has not arrived
    assert.equal(w.notYetReceived(6, 7), true);
    assert.equal(w.notYetReceived(7, 7), false, 'RefCmdSN must precede the TMF');
    assert.equal(w.notYetReceived(40, 41), false, 'outside the window');
    w.markReceived(6);
    assert.equal(w.offer(6, 'late'), 'aborted');
    assert.equal(w.offer(5, 'a'), 'deliver');
    assert.deepEqual(w.drain(), [], 'the aborted command is not delivered');
    assert.equal(w.expCmdSN, 7, 'but its CmdSN is consumed');
    assert.equal(w.offer(7, 'b'), 'deliver');
  });

  it('ABORT TASK of a queued command removes it and keeps the numbering', () => {
    const w = new CmdSNWindow<string>(1, 16);
    w.offer(2, 'victim');
    w.offer(3, 'next');
    assert.equal(w.notYetReceived(2, 4), false, 'already received (queued)');
    assert.deepEqual(w.removeQueued((x) => x === 'victim'), ['victim']);
    assert.equal(w.offer(1, 'a'), 'deliver');
    assert.deepEqual(w.drain(), ['next']);
    assert.equal(w.expCmdSN, 4);
  });
});
