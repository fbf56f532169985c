import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeLabelValue, formatLabels, sanitizeLabelName } from '../../src/sink/loki/labels.js';

describe('formatLabels', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['names are sorted and joined with comma-space', { type: 'Normal', namespace: 'default', job: 'kes' }, '{job="kes", namespace="default", type="Normal"}'],
    ['backslashes, quotes and newlines in values are escaped', { msg: 'a\\b "c"\nd' }, '{msg="a\\\\b \\"c\\"\\nd"}'],
    ['empty values are dropped', { a: '', b: 'x' }, '{b="x"}'],
    ['names are sanitised to [a-zA-Z_][a-zA-Z0-9_]*', { 'app.kubernetes.io/name': 'web', '1st': 'y' }, '{_1st="y", app_kubernetes_io_name="web"}'],
    ['two names that sanitise alike keep the first in sorted order', { 'a-b': '1', 'a.b': '2' }, '{a_b="1"}'],
    ['unicode values pass unchanged', { reason: 'Grüße 🚀' }, '{reason="Grüße 🚀"}'],
    ['no labels give an empty selector', {}, '{}'],
  ];
  for (const [name, labels, expected] of cases) {
    it(name, () => assert.equal(formatLabels(labels), expected));
  }

  it('the same labels in any insertion order give the same string', () => {
    assert.equal(formatLabels({ b: '2', a: '1' }), formatLabels({ a: '1', b: '2' }));
  });
});

describe('label helpers', () => {
  it('a valid name is left as it is', () => assert.equal(sanitizeLabelName('source_component'), 'source_component'));
  it('a value without special characters is returned unchanged', () => assert.equal(escapeLabelValue('kube-system'), 'kube-system'));
});
