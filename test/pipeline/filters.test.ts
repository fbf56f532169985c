import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filteredBy, parseMatchers, toMatchers } from '../../src/pipeline/filters.js';
import { coreEvent, newEvent } from '../fakes/kube-events.js';

describe('client-side filters', () => {
  it('parses exact values and /regexes/ with flags', () => {
    const [exact, regex, flagged] = parseMatchers('Warning, /^Failed/ ,/oom/i');
    assert.equal(exact, 'Warning');
    assert.ok(regex instanceof RegExp && regex.test('FailedMount'));
    assert.ok(flagged instanceof RegExp && flagged.test('OOMKilled'));
    assert.deepEqual(toMatchers(['', ' BackOff ']), ['BackOff']);
    assert.deepEqual(toMatchers(['/a{1,3}/']).map(String), ['/a{1,3}/']);
    assert.throws(() => toMatchers(['/(/']), SyntaxError);
    const sticky = toMatchers(['/x/g'])[0] as RegExp;
    assert.ok(sticky.test('x') && sticky.test('x'), 'matching twice gives the same answer');
  });

  const cases: { name: string; event: Record<string, unknown>; options: Parameters<typeof filteredBy>[1]; expected: ReturnType<typeof filteredBy> }[] = [
    { name: 'no filter lets everything through', event: coreEvent(), options: {}, expected: undefined },
    { name: 'a type not listed is left out', event: coreEvent({ type: 'Normal' }), options: { types: ['Warning'] }, expected: 'type' },
    { name: 'a reason matching a regex passes', event: coreEvent({ reason: 'FailedMount' }), options: { reasons: [/^Failed/] }, expected: undefined },
    { name: 'a reason matching nothing is left out', event: coreEvent({ reason: 'Pulled' }), options: { reasons: [/^Failed/, 'BackOff'] }, expected: 'reason' },
    { name: 'the kind comes from regarding in events.k8s.io/v1', event: newEvent({ kind: 'Node' }), options: { kinds: ['Node'] }, expected: undefined },
    { name: 'a kind not listed is left out', event: coreEvent({ kind: 'Pod' }), options: { kinds: ['Node'] }, expected: 'kind' },
    { name: 'an excluded namespace is left out first', event: coreEvent({ namespace: 'kube-system', type: 'Normal' }), options: { excludeNamespaces: ['kube-system'], types: ['Warning'] }, expected: 'namespace' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(filteredBy(c.event, c.options), c.expected));
  }
});
