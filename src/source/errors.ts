import { ShipperError } from '../core/errors.js';

/** The API server refused our credentials (401). */
export class KubeUnauthorizedError extends ShipperError {
  readonly code = 'E_K8S_UNAUTHORIZED';
}

/** RBAC does not allow what we asked (403). */
export class KubeForbiddenError extends ShipperError {
  readonly code = 'E_K8S_FORBIDDEN';
}

/** Any other unexpected answer from the API server (5xx, 4xx, a body that is not a list). */
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
