import type { TSchema } from "@sinclair/typebox";
import { ValueErrorType } from "@sinclair/typebox/errors";
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
          // Thrown while the body was read; the body reader's own errors say what is wrong.
          if (error.cause instanceof AgentdError) {
            return errorResponse(error.cause.status, error.cause.code, error.cause.message);
          }
          return errorResponse(
            400,
            "malformed_body",
            "request body is missing or not valid JSON: send a JSON object with Content-Type: application/json",
          );
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

/** Schema errors as a person fixes them: where, what is allowed, what was sent. */
function describeValidation(error: Readonly<ValidationError>): string {
  // A range checked after a query parameter was decoded has lost its name: the schema keeps it.
  if (typeof error.customError === "string") return error.customError;
  if (error.type === "params") {
    return "the path is not valid percent-encoded UTF-8: encode each byte of a name as %XX";
  }
  const problems = error.all;
  const missing = new Set(
    problems.filter((p) => p.type === ValueErrorType.ObjectRequiredProperty).map((p) => p.path),
  );
  const described = problems
    // A missing field is also "not a string": say it once.
    .filter((p) => p.type === ValueErrorType.ObjectRequiredProperty || !missing.has(p.path))
    .map(
      (p) =>
        `${error.type}${fieldPath(p.path)}${describeProblem(p.type, p.schema, p.value, p.message)}`,
    );
  if (described.length === 0) return `invalid ${error.type}`;
  return [...new Set(described)].slice(0, 3).join("; ");
}

/** A JSON pointer (`/env/a~1b`) as a person reads it (`.env.a/b`). */
function fieldPath(pointer: string): string {
  return pointer.replaceAll("/", ".").replaceAll("~1", "/").replaceAll("~0", "~");
}

function describeProblem(
  type: ValueErrorType,
  schema: TSchema,
  value: unknown,
  fallback: string,
): string {
  const got = `; got ${shown(value)}`;
  switch (type) {
    case ValueErrorType.ObjectRequiredProperty:
      return " is required";
    case ValueErrorType.ObjectAdditionalProperties:
      return ` is not a field here; the fields are: ${Object.keys(schema.properties ?? {}).join(", ")}`;
    case ValueErrorType.Union:
      return ` must be ${alternatives(schema)}${got}`;
    case ValueErrorType.StringPattern:
      return ` must ${schema.description ? `be ${schema.description}` : `match ${schema.pattern}`}${got}`;
    case ValueErrorType.StringMinLength:
      return schema.minLength === 1
        ? " must not be empty"
        : ` must have at least ${schema.minLength} characters${got}`;
    case ValueErrorType.ArrayMinItems:
      return ` must have at least ${schema.minItems} item${schema.minItems === 1 ? "" : "s"}${got}`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return ` must be at least ${schema.minimum}${got}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return ` must be at most ${schema.maximum}${got}`;
    case ValueErrorType.Object:
      if (value === undefined) return " is required: send a JSON object";
      return ` must be a JSON object${got}`;
    case ValueErrorType.Array:
    case ValueErrorType.String:
    case ValueErrorType.Number:
    case ValueErrorType.Integer:
    case ValueErrorType.Boolean:
    case ValueErrorType.Null:
      return ` must be ${kindOf(schema)}${got}`;
    default:
      return `: ${fallback}${got}`;
  }
}

/** `one of: "run", "persistent"`, `a string or null`, `a number`. */
function alternatives(schema: TSchema): string {
  const options: TSchema[] = schema.anyOf ?? [];
  if (options.some((option) => option.format === "numeric")) return "a number";
  if (options.length > 0 && options.every((option) => option.const !== undefined)) {
    return `one of: ${options.map((option) => JSON.stringify(option.const)).join(", ")}`;
  }
  return options.map(kindOf).join(" or ");
}

function kindOf(schema: TSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  switch (schema.type) {
    case "array":
      return `an array${schema.items ? ` of ${plural(kindOf(schema.items))}` : ""}`;
    case "object":
      return "a JSON object";
    case "integer":
      return `a whole number${range(schema)}`;
    case "number":
      return `a number${range(schema)}`;
    case "null":
      return "null";
    case undefined:
      return "a value";
    default:
      return `a ${schema.type}`;
  }
}

function range(schema: TSchema): string {
  const { minimum, maximum } = schema;
  if (minimum !== undefined && maximum !== undefined) return ` from ${minimum} to ${maximum}`;
  if (minimum !== undefined) return ` of at least ${minimum}`;
  if (maximum !== undefined) return ` of at most ${maximum}`;
  return "";
}

function plural(kind: string): string {
  return kind.replace(/^an? (.*)$/, "$1s");
}

/** The value sent, short: enough to recognise it. */
function shown(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
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
