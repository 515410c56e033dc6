// The Refresher with a live event stream: a page reloads at once when the stream says something changed, keeps
// its poll, and lets go of both when it leaves the screen. The browser's EventSource is played by a fake.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReactiveController, ReactiveControllerHost } from 'lit';

class FakeEventSource {
  static last: FakeEventSource | undefined;
  readyState = 1;
  onopen: ((ev: Event) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  closed = false;
  private readonly listeners = new Map<string, Array<(ev: MessageEvent) => void>>();
  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }
  addEventListener(type: string, l: (ev: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), l]);
  }
  close(): void {
    this.closed = true;
  }
  send(type: string, data: unknown): void {
    for (const l of this.listeners.get(type) ?? []) l(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
}

test('a page reloads on a change event (debounced), still polls, and stops both when it disconnects', async () => {
  (globalThis as { EventSource?: unknown }).EventSource = FakeEventSource;
  const { Refresher } = await import('../src/refresher.ts');
  let controller: ReactiveController | undefined;
  const host = { addController: (c: ReactiveController) => (controller = c) } as unknown as ReactiveControllerHost;
  let loads = 0;
  new Refresher(host, async () => void loads++, 1000);
  controller!.hostConnected!();
  try {
    await exercise();
  } finally {
    controller!.hostDisconnected!();
    delete (globalThis as { EventSource?: unknown }).EventSource;
  }
  async function exercise(): Promise<void> {
    assert.equal(loads, 1, 'loads on connect');
    const src = FakeEventSource.last!;
    assert.equal(src.url, '/api/events');
    src.send('sessions', []);
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(loads, 1, 'the first session list is the baseline, not a change');
    src.send('sessions', [{ tsih: 1, since: 'x', remote: 'y' }]);
    src.send('target', { available: false });
    // the reload comes 200 ms after the burst (t ≈ 450 ms), the poll at 1000 ms
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(loads, 2, 'two change events in a burst: one reload');
    await new Promise((r) => setTimeout(r, 750));
    assert.equal(loads, 3, 'the poll goes on as the fallback');
    controller!.hostDisconnected!();
    src.send('sessions', []);
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(loads, 3, 'nothing after disconnect');
  }
});
