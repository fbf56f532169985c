/**
 * The pipeline's public API for the CLI: `createShipper(options, deps).run(signal)`.
 * See shipper.ts for the wiring and docs/design.md for the guarantees (delivery, ordering, checkpoint).
 */
export { createShipper } from './shipper.js';
export type { CountedEvent, EventTransformer, Shipper, ShipperDeps, ShipperOptions } from './shipper.js';
export { Watermark } from './watermark.js';
export type { Position } from './watermark.js';
