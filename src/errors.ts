/**
 * Errors that carry their HTTP meaning. Thrown anywhere below the server and mapped to
 * `{error: {code, message}}` in one place (server/errors.ts).
 */
export class AgentdError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class BadRequestError extends AgentdError {
  constructor(message: string) {
    super(400, "bad_request", message);
  }
}

export class UnauthorizedError extends AgentdError {
  constructor(message: string) {
    super(401, "unauthorized", message);
  }
}

export class NotFoundError extends AgentdError {
  constructor(message: string) {
    super(404, "not_found", message);
  }
}

export class PayloadTooLargeError extends AgentdError {
  constructor(message: string) {
    super(413, "payload_too_large", message);
  }
}

export class UnsupportedMediaTypeError extends AgentdError {
  constructor(message: string) {
    super(415, "unsupported_media_type", message);
  }
}

export class ConflictError extends AgentdError {
  constructor(message: string, details?: unknown) {
    super(409, "conflict", message, details);
  }
}

/** A removal that could not finish, with what is left: fixed, it can be tried again. */
export class IncompleteRemovalError extends AgentdError {
  constructor(message: string, left: { path: string; error: string }[]) {
    super(409, "removal_incomplete", message, { left_behind: left });
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
