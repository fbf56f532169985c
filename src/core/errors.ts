/**
 * One error class per failure kind, each with a stable `code`. Branch on `code`, never on text.
 * Modules add their own subclasses next to the code that throws them.
 */
export abstract class ShipperError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad flag, env variable or config file value. The CLI exits with code 2. */
export class ConfigError extends ShipperError {
  readonly code = 'E_CONFIG';
}
