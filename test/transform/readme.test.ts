import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parser } from '@grafana/lezer-logql';
import { repoRoot } from '../support/fixtures.js';
import { LINE_KEYS, DEFAULT_TRANSFORM_OPTIONS } from '../../src/transform/index.js';

const readme = readFileSync(resolve(repoRoot, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('<!-- section:transform -->'), readme.indexOf('<!-- /section:transform -->'));

describe('the README transform section', () => {
  it('every LogQL query in it parses', () => {
    const blocks = [...section.matchAll(/```logql\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const queries = blocks.flatMap((b) => b.split('\n')).filter((l) => l.trim() !== '' && !l.startsWith('#'));
    assert.ok(queries.length >= 4);
    for (const query of queries) {
      const errors: number[] = [];
      parser.parse(query).iterate({
        enter: (node) => {
          if (node.type.isError) errors.push(node.from);
        },
      });
      assert.deepEqual(errors, [], query);
    }
  });

  it('lists the line keys in code order', () => {
    assert.ok(section.includes(LINE_KEYS.join(' ')));
  });

  it('states the default message limit', () => {
    assert.ok(section.includes(`| \`--max-message-bytes\` | \`${DEFAULT_TRANSFORM_OPTIONS.maxMessageBytes}\``));
  });
});
