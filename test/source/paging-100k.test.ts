import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { coreEvent } from '../fakes/kube-events.js';
import { until } from '../support/wait.js';
import { startSource } from './harness.js';

describe('listing 100k events', () => {
  let fake: FakeKubeApiServer;
  before(async () => {
    fake = await FakeKubeApiServer.start();
    for (let i = 0; i < 100_000; i++) fake.createEvent(coreEvent({ namespace: `ns-${i % 20}`, name: `e${i}` }));
  });
  after(() => fake.close());

  it('hands every event over and never holds more than one page (memory figure: npm run bench source)', async () => {
    const running = startSource(fake, { pageSize: 500, initial: { kind: 'all' } });
    try {
      await until(() => running.items.length === 100_000, 'all events', 30_000);
      const lists = fake.requests.filter((r) => r.endpoint === 'list');
      assert.equal(lists.length, 200);
      let bad = 0;
      running.items.forEach((r, i) => {
        if (r.listsServed !== Math.floor(i / 500) + 1) bad += 1;
      });
      assert.equal(bad, 0, 'an item was handed over after a later page had been fetched');
      assert.equal(new Set(running.items.map((r) => (r.item.object['metadata'] as { uid: string }).uid)).size, 100_000);
    } finally {
      await running.stop();
    }
  });
});
