import { createHash, timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import { isDashboardRequest } from "./dashboard.ts";
import { errorResponse } from "./errors.ts";
import { pathOf } from "./request-url.ts";

/**
 * What anyone may read: liveness for probes that hold no token, the API's description, and the
 * dashboard's page and files (they hold no data; the page asks for the token).
 */
const OPEN = new Set(["GET /health", "GET /openapi", "GET /openapi/json"]);

const METRICS_PATH = "/metrics";

const HOW =
  "send Authorization: Bearer <token> (the agentd CLI: --token, --token-file or AGENTD_TOKEN)";
const HOW_FOR_METRICS = "send Authorization: Bearer <the metrics token or AGENTD_TOKEN>";

/**
 * When a token is configured, every other request must carry `Authorization: Bearer <token>`.
 * `/metrics` also takes the metrics token, which reads nothing else; once that is set,
 * `/metrics` needs one of the two even when the API itself needs none. Tokens are compared as
 * digests of equal length in constant time, every accepted one each time, so an answer's
 * timing tells nothing about a token, not even its length.
 */
export function bearerAuth(token: string | null, metricsToken: string | null = null) {
  const main = token === null ? [] : [digest(token)];
  const forMetrics = metricsToken === null ? main : [...main, digest(metricsToken)];
  return new Elysia({ name: "agentd.auth" }).onRequest(({ request }) => {
    const method = request.method === "HEAD" ? "GET" : request.method;
    const path = pathOf(request.url);
    if (OPEN.has(`${method} ${path}`) || isDashboardRequest(method, path)) return;
    const accepted = path === METRICS_PATH ? forMetrics : main;
    if (accepted.length === 0) return;
    const how = path === METRICS_PATH && metricsToken !== null ? HOW_FOR_METRICS : HOW;
    const given = bearerToken(request.headers.get("authorization"));
    if (given === null) return unauthorized(`this daemon requires a token: ${how}`);
    const presented = digest(given);
    const matches = accepted.map((expected) => timingSafeEqual(presented, expected));
    if (!matches.includes(true)) return unauthorized(`wrong token: ${how}`);
  });
}

function bearerToken(header: string | null): string | null {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? "");
  return match ? (match[1] as string) : null;
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function unauthorized(message: string): Response {
  const response = errorResponse(401, "unauthorized", message);
  response.headers.set("www-authenticate", 'Bearer realm="agentd"');
  return response;
}
