import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../support/fixtures.js';

// `docker build` cannot run on the CI machine (no engine): these check the Dockerfile's text.
const dockerfile = readFileSync(resolve(repoRoot, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const stages = instructions.reduce<string[][]>((acc, line) => {
  if (/^FROM /i.test(line)) acc.push([]);
  acc[acc.length - 1]?.push(line);
  return acc;
}, []);
const finalStage = stages[stages.length - 1] ?? [];

/** The `.dockerignore` here is "ignore everything, then allow": what it lets into the context. */
function allowedByDockerignore(path: string): boolean {
  const rules = readFileSync(resolve(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(rules[0], '*', '.dockerignore starts by ignoring everything');
  return rules.slice(1).some((rule) => rule.startsWith('!') && (path === rule.slice(1).replace(/\/$/, '') || path.startsWith(rule.slice(1))));
}

describe('Dockerfile', () => {
  it('builds in stages on the Node 24 base image', () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:24[-\w.]*$/m);
    for (const stage of stages) assert.match(stage[0] ?? '', /^FROM \$\{NODE_IMAGE\}/);
  });

  it('installs only production dependencies without scripts for the final image', () => {
    assert.match(dockerfile, /npm ci --omit=dev --ignore-scripts/);
    assert.ok(!finalStage.some((l) => /npm (ci|install)/.test(l)), 'no install in the final stage itself');
    assert.ok(finalStage.some((l) => /^COPY --from=/.test(l)));
  });

  it('runs as a numeric non-root user with node as PID 1 in exec form', () => {
    const user = finalStage.filter((l) => l.startsWith('USER ')).pop();
    assert.match(user ?? '', /^USER [1-9]\d*:[1-9]\d*$/);
    const entrypoint = finalStage.find((l) => l.startsWith('ENTRYPOINT '));
    const argv = JSON.parse(entrypoint?.slice('ENTRYPOINT '.length) ?? 'null') as unknown;
    assert.deepEqual(argv, ['node', '/app/dist/cli/main.js']);
    const pkg = JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    assert.equal(`/app/${pkg.bin['kube-event-shipper'] ?? ''}`, '/app/dist/cli/main.js', 'the entrypoint is the package bin');
  });

  it('copies from the build context only files that exist and .dockerignore lets in', () => {
    for (const line of instructions.filter((l) => /^COPY /.test(l) && !/--from=/.test(l))) {
      const sources = line.split(/\s+/).slice(1, -1).filter((s) => !s.startsWith('--'));
      for (const source of sources) {
        assert.ok(existsSync(resolve(repoRoot, source)), `${source} exists`);
        assert.ok(allowedByDockerignore(source), `${source} is in the build context`);
      }
    }
  });
});
