/**
 * `npm run build`: bundles the CLI with esbuild into `dist/cli/` — `main.js` (the package bin) and
 * chunks that a command loads when it runs. Start-up then reads one file instead of hundreds, and
 * code a command does not use is never loaded: `--version`, `--help`, `dashboards` and `replay`
 * load no Kubernetes client, `run` none of client-node's generated API (its `dist/gen/` is 61 MB;
 * `KubeConfig` imports all of it). Types are checked by `npm run lint` (tsc), not here.
 */
import { rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outdir = resolve(root, 'dist', 'cli');

/**
 * client-node's generated code declares no `sideEffects`, so esbuild keeps every model class that
 * a re-export reaches (700 classes, 600 kB). They are plain classes and a type map: mark them free
 * of side effects, so what is not used is left out.
 */
const generatedCodeIsPure: Plugin = {
  name: 'client-node-generated-code-is-pure',
  setup(b) {
    b.onResolve({ filter: /./ }, async (args) => {
      if (args.pluginData === generatedCodeIsPure || !/client-node/.test(args.importer + args.path)) return undefined;
      const resolved = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: generatedCodeIsPure });
      if (resolved.errors.length > 0) return undefined;
      return /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]gen[\\/]/.test(resolved.path) ? { ...resolved, sideEffects: false } : resolved;
    });
  },
};

/**
 * `node:http` is loaded with require(), not an ESM import: for an import Node builds the builtin's
 * ESM facade by reading every export, and node:http's `WebSocket`, `CloseEvent` and `MessageEvent`
 * getters then load Node's own bundled copy of undici (760 kB of source we never use): +13 MiB RSS
 * for `import { createServer } from 'node:http'` against require('node:http') in a bare node.
 */
const httpThroughRequire: Plugin = {
  name: 'node-http-through-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?http$/ }, (args) =>
      args.namespace === 'http-through-require' ? { path: 'node:http', external: true } : { path: 'node:http', namespace: 'http-through-require' },
    );
    b.onLoad({ filter: /.*/, namespace: 'http-through-require' }, () => ({ contents: "module.exports = require('node:http');", loader: 'js' }));
  },
};

rmSync(resolve(root, 'dist'), { recursive: true, force: true });
await build({
  entryPoints: [resolve(root, 'src', 'cli', 'main.ts')],
  outdir,
  // Chunks beside main.js: `packageRoot` (two levels above the file) holds for any of them.
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22.19',
  // Bundled CommonJS dependencies (undici, pino, …) call require() for Node's own modules.
  banner: { js: "import { createRequire as __kesCreateRequire } from 'node:module'; const require = __kesCreateRequire(import.meta.url);" },
  plugins: [generatedCodeIsPure, httpThroughRequire],
  // V8 keeps every loaded chunk's source text in memory (and as two-byte text when a single
  // comment holds a non-Latin-1 character, as undici's and zod's do): without comments and
  // whitespace an idle `run` holds 4.6 MB less of it. Names stay, so stack traces and profiles
  // still name functions (at line 1 of their chunk).
  minifyWhitespace: true,
  // Licence comments go to one `<chunk>.LEGAL.txt` beside each chunk instead of its end: a single
  // non-ASCII character in them (undici's formdata-polyfill credits "Jimmy Wärting") made V8 hold
  // the whole 1.4 MB chunk as two-byte text, 2.8 MB.
  legalComments: 'external',
  logLevel: 'warning',
});
