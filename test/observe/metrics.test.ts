import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics, EVENT_DROP_REASONS } from '../../src/observe/metrics.js';

describe('createMetrics', () => {
  it('exports every drop reason at 0 before the first increment', async () => {
    const text = await createMetrics({ version: 'test' }).registry.metrics();
    for (const reason of EVENT_DROP_REASONS) {
      assert.match(text, new RegExp(`^kube_event_shipper_events_dropped_total\\{reason="${reason}"\\} 0$`, 'm'));
    }
  });

  it('gives each call its own registry', async () => {
    const a = createMetrics({ version: 'a' });
    const b = createMetrics({ version: 'b' });
    a.eventsShipped.inc(3);
    assert.match(await b.registry.metrics(), /^kube_event_shipper_events_shipped_total 0$/m);
  });
});
