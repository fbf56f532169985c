/**
 * Scenario 6, per-stage microbenchmarks in-process (first version: the earlier `*.bench.ts`
 * modules, whose free-text output goes to stderr with the progress).
 */
import type { BenchContext } from '../lib/context.js';

export async function micro(ctx: BenchContext): Promise<void> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr);
  try {
    for (const name of ['transform', 'sink', 'source']) {
      ctx.log(`-- ${name}.bench.ts`);
      const mod = (await import(`../${name}.bench.js`)) as { default: () => Promise<void> | void };
      await mod.default();
    }
  } finally {
    process.stdout.write = write;
  }
}
