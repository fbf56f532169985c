import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics, EVENT_DROP_REASONS } from '../../src/observe/metrics.js';
import { metricValue, readMetrics } from '../support/metrics.js';

describe('createMetrics', () => {
  it('exports every drop reason at 0 before the first increment', async () => {
    const samples = await readMetrics(createMetrics({ version: 'test' }));
    for (const reason of EVENT_DROP_REASONS) {
      assert.equal(samples.value('kube_event_shipper_events_dropped_total', { reason }), 0);
    }
  });

  it('gives each call its own registry', async () => {
    const a = createMetrics({ version: 'a' });
    const b = createMetrics({ version: 'b' });
    a.eventsShipped.inc(3);
    assert.equal(await metricValue(b, 'kube_event_shipper_events_shipped_total'), 0);
  });
});
