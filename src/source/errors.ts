import { ShipperError } from '../core/errors.js';

/**
 * An unexpected answer from the API server (5xx, 4xx, a body that is not a list, an error inside
 * a watch stream). 401/403 are no error: the source reports them as its `auth` outcome.
 */
export class KubeRequestError extends ShipperError {
  readonly code = 'E_K8S_REQUEST';

  constructor(
    message: string,
    readonly status: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
