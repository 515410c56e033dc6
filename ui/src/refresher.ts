/**
 * Keeps a page's data fresh while it is on screen: loads when the element connects, again at once when the live
 * event stream (live-events.ts) says something changed, and every few seconds as the fallback that also catches
 * changes the stream does not announce (CLI, another browser: design.md); stops when the element disconnects.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { liveEvents } from './live-events.ts';

export const REFRESH_MS = 5000;

export class Refresher implements ReactiveController {
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopLive: (() => void) | undefined;
  private pending: ReturnType<typeof setTimeout> | undefined;

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
    // a burst of events (sessions + target) costs one reload
    this.stopLive = liveEvents()?.onChange(() => {
      this.pending ??= setTimeout(() => {
        this.pending = undefined;
        void this.load();
      }, 200);
    });
  }

  hostDisconnected(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    clearTimeout(this.pending);
    this.pending = undefined;
    this.stopLive?.();
    this.stopLive = undefined;
  }
}
