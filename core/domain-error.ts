/**
 * Errors that domain code raises: a stable machine-readable `code`, a human message, and a `category` that
 * the API maps to an HTTP status in one place (api/errors.ts). Domain code never speaks HTTP.
 */
export type DomainErrorCategory =
  | 'invalid' // the request or payload is wrong: 400
  | 'unauthenticated' // no or wrong credentials: 401
  | 'forbidden' // authenticated but not allowed: 403
  | 'not_found' // 404
  | 'conflict' // state does not allow it: 409
  | 'too_large' // 413
  | 'unavailable'; // a dependency is down or saturated: 503

export class DomainError extends Error {
  constructor(
    readonly category: DomainErrorCategory,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
