/**
 * The pipeline's public API for the CLI: `createShipper(options, deps).run(signal)`.
 * See shipper.ts for the wiring and docs/design.md for the guarantees (delivery, ordering, checkpoint).
 */
export { createShipper } from './shipper.js';
export type { Shipper, ShipperDeps, ShipperOptions } from './shipper.js';
export { parseMatchers, toMatchers, filteredBy } from './filters.js';
export type { EventFilterOptions, Matcher } from './filters.js';
export { Watermark } from './watermark.js';
export type { Position } from './watermark.js';
