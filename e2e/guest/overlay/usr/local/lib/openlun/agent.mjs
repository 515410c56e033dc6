// The openlun test guest's command agent (PID 1 after /sbin/openlun-init). It speaks JSON lines over a
// virtio-serial port, never the serial console. Host -> agent:
//   {op:'run', id, argv, cwd?, env?, timeoutMs?, stdin?}  {op:'stdin', id, data(b64)}  {op:'stdin-end', id}
//   {op:'kill', id}  {op:'poweroff'}
// Agent -> host:
//   {op:'ready', uptime, node, kernel}  {op:'out', id, fd, data(b64)}  {op:'exit', id, code, signal, timedOut, error?}
// When the host side goes away (its process died), the agent powers the guest off so QEMU exits.
import { spawn } from 'node:child_process';
import { openSync, read, readFileSync, write, writeFileSync } from 'node:fs';

const portPath = process.argv[2];
const fd = openSync(portPath, 'r+');
const children = new Map();

let writeChain = Promise.resolve();
function writeAll(buf) {
  return new Promise((resolve) => {
    const step = (off) => {
      if (off >= buf.length) return resolve();
      write(fd, buf, off, buf.length - off, null, (err, n) => {
        if (err) {
          if (err.code === 'EAGAIN' || err.code === 'EINTR') return setTimeout(() => step(off), 10);
          return hostGone(`write: ${err.message}`);
        }
        step(off + n);
      });
    };
    step(0);
  });
}
function send(msg) {
  const buf = Buffer.from(JSON.stringify(msg) + '\n');
  writeChain = writeChain.then(() => writeAll(buf));
  return writeChain;
}

function powerOff() {
  try { writeFileSync('/proc/sys/kernel/sysrq', '1'); } catch {}
  spawn('sync', [], { stdio: 'ignore' }).on('close', () => {
    // Immediate power-off, no shutdown sequence: the root disk is a throw-away overlay.
    try { writeFileSync('/proc/sysrq-trigger', 'o'); } catch {}
  });
}

let goingAway = false;
function hostGone(why) {
  if (goingAway) return;
  goingAway = true;
  console.error(`openlun-agent: host gone (${why}); powering off`);
  powerOff();
}

function killGroup(child, signal) {
  try { process.kill(-child.pid, signal); } catch { try { child.kill(signal); } catch {} }
}

function run(msg) {
  const { id, argv } = msg;
  let child;
  try {
    child = spawn(argv[0], argv.slice(1), {
      cwd: msg.cwd ?? '/root',
      env: { ...process.env, ...(msg.env ?? {}) },
      stdio: [msg.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true, // own process group, so a timeout kills the whole tree
    });
  } catch (e) {
    void send({ op: 'exit', id, code: 127, signal: null, timedOut: false, error: String(e) });
    return;
  }
  const entry = { child, done: false, timedOut: false, timer: undefined };
  children.set(id, entry);
  if (msg.timeoutMs) {
    entry.timer = setTimeout(() => { entry.timedOut = true; killGroup(child, 'SIGKILL'); }, msg.timeoutMs);
  }
  child.stdout.on('data', (c) => void send({ op: 'out', id, fd: 1, data: c.toString('base64') }));
  child.stderr.on('data', (c) => void send({ op: 'out', id, fd: 2, data: c.toString('base64') }));
  child.stdin?.on('error', () => {});
  const finish = (code, signal, error) => {
    if (entry.done) return;
    entry.done = true;
    clearTimeout(entry.timer);
    children.delete(id);
    void send({ op: 'exit', id, code, signal, timedOut: entry.timedOut, ...(error ? { error } : {}) });
  };
  child.on('error', (e) => finish(127, null, String(e)));
  child.on('close', (code, signal) => finish(code, signal));
  // A daemon started by the command may keep its stdout open: report the exit anyway after a grace period.
  child.on('exit', (code, signal) => setTimeout(() => {
    child.stdout.destroy(); child.stderr.destroy(); finish(code, signal);
  }, 2000).unref());
}

function handle(msg) {
  switch (msg.op) {
    case 'run': return run(msg);
    case 'stdin': return void children.get(msg.id)?.child.stdin?.write(Buffer.from(msg.data, 'base64'));
    case 'stdin-end': return void children.get(msg.id)?.child.stdin?.end();
    case 'kill': { const e = children.get(msg.id); if (e) killGroup(e.child, 'SIGKILL'); return; }
    case 'poweroff': goingAway = true; return powerOff();
    default: console.error(`openlun-agent: unknown op ${msg.op}`);
  }
}

let pending = Buffer.alloc(0);
function onData(chunk) {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  let nl;
  while ((nl = pending.indexOf(10)) >= 0) {
    const line = pending.subarray(0, nl).toString('utf8');
    pending = pending.subarray(nl + 1);
    if (!line.trim()) continue;
    let msg;
    try { msg = JSON.parse(line); } catch { console.error('openlun-agent: bad line'); continue; }
    try { handle(msg); } catch (e) { console.error(`openlun-agent: ${e}`); }
  }
}

function readLoop() {
  const buf = Buffer.allocUnsafe(1 << 20);
  read(fd, buf, 0, buf.length, null, (err, n) => {
    if (err) {
      if (err.code === 'EAGAIN' || err.code === 'EINTR') return setTimeout(readLoop, 20);
      return hostGone(`read: ${err.message}`);
    }
    // virtio_console returns 0 from read() once the host side is disconnected.
    if (n === 0) return hostGone('EOF');
    onData(Buffer.from(buf.subarray(0, n)));
    readLoop();
  });
}

// Orphans re-parented to PID 1 (us) would otherwise stay zombies; Node reaps only its own children, which is
// acceptable for a short-lived test guest.
process.on('SIGTERM', () => {});
const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
// The write blocks until the host end of the port is connected; reading starts once it is.
send({ op: 'ready', uptime, node: process.version, kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() })
  .then(readLoop);
