/**
 * Keeps a page's data fresh while it is on screen: loads when the element connects, again every few seconds (so the
 * UI follows changes made from the CLI or another browser, design.md), and stops when it disconnects.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export const REFRESH_MS = 5000;

export class Refresher implements ReactiveController {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    host: ReactiveControllerHost,
    private readonly load: () => Promise<void>,
    private readonly everyMs = REFRESH_MS,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    void this.load();
    this.timer = setInterval(() => void this.load(), this.everyMs);
  }

  hostDisconnected(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
