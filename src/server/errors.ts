import { Elysia, type ValidationError } from "elysia";
import { AgentdError } from "../errors.ts";
import { log } from "../log.ts";

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorResponse(status: number, code: string, message: string, details?: unknown) {
  const body: ErrorBody = { error: { code, message } };
  if (details !== undefined) body.error.details = details;
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

/** The one place where every failure becomes `{error: {code, message}}`; never a stack trace. */
export const errorMapping = new Elysia({ name: "agentd.errors" }).onError(
  { as: "global" },
  ({ code, error, request, set }) => {
    const response = ((): Response => {
      if (error instanceof AgentdError) {
        return errorResponse(error.status, error.code, error.message, error.details);
      }
      switch (code) {
        case "VALIDATION":
          return errorResponse(422, "validation_failed", describeValidation(error));
        case "PARSE":
          return errorResponse(400, "malformed_body", "request body is not valid JSON");
        case "NOT_FOUND":
          return errorResponse(
            404,
            "not_found",
            `no route for ${request.method} ${new URL(request.url).pathname}`,
          );
        case "INVALID_COOKIE_SIGNATURE":
        case "INVALID_FILE_TYPE":
          return errorResponse(400, "bad_request", error.message);
        default: {
          const status = statusOf(error);
          if (status !== null && status >= 400 && status < 500) {
            return errorResponse(status, "bad_request", messageOf(error));
          }
          log.error(`${request.method} ${request.url} failed: ${messageOf(error)}`);
          return errorResponse(500, "internal", "internal error; see the daemon log");
        }
      }
    })();
    // The status answered, for what runs after the response (the HTTP metrics).
    set.status = response.status;
    return response;
  },
);

function describeValidation(error: Readonly<ValidationError>): string {
  const first = error.all[0];
  if (!first) return `invalid ${error.type}`;
  const path = first.path ? `${error.type}${first.path.replaceAll("/", ".")}` : error.type;
  const summary = "summary" in first && first.summary ? first.summary : first.message;
  return `${path}: ${summary}`;
}

function statusOf(error: unknown): number | null {
  if (typeof error === "object" && error !== null && "status" in error) {
    const status = (error as { status: unknown }).status;
    if (typeof status === "number") return status;
  }
  return null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
