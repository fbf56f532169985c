/**
 * The calm scenario's reference: a bare Node that reads the same watch the shipper reads, with the
 * shipper's HTTP client (undici) over the same TLS, and `JSON.parse`s each line — nothing else. At
 * a few events a second each event arrives alone (its own TLS record, read, HTTP chunk and
 * callbacks), so this costs far more per event than the floor of a burst, where one read carries
 * dozens; it is what reading a calm watch costs at all.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { MeasuredChild } from './child.js';
import { spawnNode } from './shipper.js';

const READER = `
const { Agent, request } = require(process.argv[1]);
const ca = require('node:fs').readFileSync(process.argv[3], 'utf8');
(async () => {
  const res = await request(process.argv[2], { dispatcher: new Agent({ connect: { ca } }), headers: { authorization: 'Bearer bench-token', accept: 'application/json' } });
  let partial = '';
  res.body.on('data', (chunk) => {
    const lines = (partial + chunk.toString('utf8')).split('\\n');
    partial = lines.pop();
    for (const line of lines) if (line !== '') JSON.parse(line);
  });
})();`;

/** Starts the reader on `watchUrl` (an https URL served with the certificate `ca` signs), writing the CA into `dir`. */
export function spawnWatchReader(dir: string, watchUrl: string, ca: string): MeasuredChild {
  const caFile = join(dir, 'watch-reader-ca.pem');
  writeFileSync(caFile, ca);
  const undici = createRequire(import.meta.url).resolve('undici');
  return spawnNode(['-e', READER, undici, watchUrl, caFile], { sampleMs: 500 });
}
