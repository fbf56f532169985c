/** Events appearing on the bench API server at a steady rate, as on a live cluster. */
import type { BenchApiServer } from './api-server.js';
import { BASE_RV, EventFactory } from './events.js';

export class Producer {
  private readonly factory = new EventFactory();
  produced = 0;

  constructor(private readonly server: BenchApiServer) {}

  /** Appends `perSecond` events a second for `durationMs` (catching up after late timer ticks). */
  async run(perSecond: number, durationMs: number, onTick?: () => void): Promise<void> {
    const start = performance.now();
    const first = this.produced;
    for (;;) {
      const elapsed = performance.now() - start;
      const due = Math.min(Math.round((Math.min(elapsed, durationMs) * perSecond) / 1000), Math.round((durationMs * perSecond) / 1000));
      while (this.produced - first < due) {
        const i = this.server.events;
        this.server.append(this.factory.watchLine(i, BASE_RV + 1 + i, Date.now()));
        this.produced += 1;
      }
      onTick?.();
      if (elapsed >= durationMs) return;
      await new Promise((r) => setTimeout(r, Math.min(20, 1000 / perSecond)));
    }
  }
}
