import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../support/fixtures.js';

/** The documents readers move between: README (users), docs/ (design, configuration), CONTRIBUTING, the deployment guide. */
const DOCUMENTS = ['README.md', 'CONTRIBUTING.md', 'deploy/README.md', ...readdirSync(resolve(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Markdown without its fenced code blocks, where `#` and `](` mean something else. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, … */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const match of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = (match[1] ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_\- ]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Relative link targets (`[text](target)`), without web and mail addresses. */
function linksOf(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((t) => !/^[a-z]+:/i.test(t));
}

describe('links between the documents', () => {
  for (const document of DOCUMENTS) {
    it(`every relative link in ${document} reaches a file, and every #anchor a heading`, () => {
      const path = resolve(repoRoot, document);
      const broken: string[] = [];
      for (const target of linksOf(readFileSync(path, 'utf8'))) {
        const [file = '', anchor] = target.split('#');
        const targetPath = file === '' ? path : resolve(dirname(path), file);
        if (!existsSync(targetPath)) {
          broken.push(`${target}: no file ${relative(repoRoot, targetPath)}`);
        } else if (anchor !== undefined && targetPath.endsWith('.md') && !anchorsOf(readFileSync(targetPath, 'utf8')).has(anchor)) {
          broken.push(`${target}: no heading with that anchor`);
        }
      }
      assert.deepEqual(broken, []);
    });
  }

  it('every repository path they name in backticks exists (globs and placeholders aside)', () => {
    const missing: string[] = [];
    for (const document of DOCUMENTS) {
      const text = readFileSync(resolve(repoRoot, document), 'utf8');
      for (const match of text.matchAll(/`((?:src|test|deploy|dashboards|docs)\/[^`\s]*)`/g)) {
        const path = match[1] ?? '';
        if (/[*<{]/.test(path)) continue;
        if (!existsSync(resolve(repoRoot, path))) missing.push(`${document}: ${path}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
