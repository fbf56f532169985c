import type { SourceOptions } from '../../src/source/index.js';

/**
 * Source options both the source and the pipeline harnesses start from: the core/v1 API, every
 * namespace, no initial replay, and timeouts short enough for a fake API server on 127.0.0.1.
 */
export const BASE_TEST_SOURCE_OPTIONS = {
  api: 'core/v1',
  namespaces: [],
  excludeNamespaces: [],
  pageSize: 500,
  initial: { kind: 'none' },
  stallTimeoutMs: 2_000,
  requestTimeoutMs: 5_000,
  listTimeoutMs: 5_000,
} as const satisfies SourceOptions;
