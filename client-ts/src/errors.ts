/** Every error the SDK throws: an answer's envelope as a typed error, or why there was no answer. */

import type { components } from "./schema.js";

export type ErrorEnvelope = components["schemas"]["ErrorResponse"];
export type ErrorDetail = ErrorEnvelope["error"]["details"][number];

/** The root of every error this SDK throws. */
export class PuraifyError extends Error {
  override name = "PuraifyError";
}

/** The control plane answered with an error status; `envelope` is its body as sent. */
export class ApiError extends PuraifyError {
  override name = "ApiError";
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];
  readonly requestId: string | null;
  readonly envelope: ErrorEnvelope | null;
  /** Seconds the server asked to wait (`Retry-After`), when it did. */
  readonly retryAfter: number | null;

  constructor(status: number, envelope: ErrorEnvelope | null, retryAfter: number | null, fallback: string) {
    super(envelope?.error?.message || fallback);
    this.status = status;
    this.envelope = envelope;
    this.code = envelope?.error?.code || `http_${status}`;
    this.details = envelope?.error?.details ?? [];
    this.requestId = envelope?.request_id ?? null;
    this.retryAfter = retryAfter;
  }
}

export class BadRequestError extends ApiError {
  override name = "BadRequestError";
}
export class UnauthorizedError extends ApiError {
  override name = "UnauthorizedError";
}
export class ForbiddenError extends ApiError {
  override name = "ForbiddenError";
}
export class NotFoundError extends ApiError {
  override name = "NotFoundError";
}
export class ConflictError extends ApiError {
  override name = "ConflictError";
}
export class PayloadTooLargeError extends ApiError {
  override name = "PayloadTooLargeError";
}
/** 422: `details` name each invalid field. */
export class ValidationError extends ApiError {
  override name = "ValidationError";
}
export class RateLimitedError extends ApiError {
  override name = "RateLimitedError";
}
export class UnavailableError extends ApiError {
  override name = "UnavailableError";
}
export class ServerError extends ApiError {
  override name = "ServerError";
}

const BY_STATUS: Record<number, typeof ApiError> = {
  400: BadRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  422: ValidationError,
  429: RateLimitedError,
  503: UnavailableError,
};

/** The typed error for an error answer. */
export function apiError(status: number, envelope: ErrorEnvelope | null, retryAfter: number | null, fallback: string) {
  const kind = BY_STATUS[status] ?? (status >= 500 ? ServerError : ApiError);
  return new kind(status, envelope, retryAfter, fallback);
}

/** No answer in time: `timeoutMs` passed for one attempt (after the retries, if any). */
export class TimeoutError extends PuraifyError {
  override name = "TimeoutError";
}

/** The connection failed before an answer came. */
export class ConnectionError extends PuraifyError {
  override name = "ConnectionError";
}

/** `require()` was denied: the check's answer, with its reason and rule, is in `result`. */
export class ActionDeniedError extends PuraifyError {
  override name = "ActionDeniedError";
  readonly result: components["schemas"]["ActionCheckResponse"];
  constructor(result: components["schemas"]["ActionCheckResponse"]) {
    super(`${result.platform}:${result.action_type} denied: ${result.reason ?? "no reason given"}`);
    this.result = result;
  }
}
