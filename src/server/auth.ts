import { timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import { UnauthorizedError } from "../errors.ts";
import { isDashboardRequest } from "./dashboard.ts";

/**
 * Paths anyone may read: liveness must work for probes that hold no token; the dashboard's page
 * and files hold no data (the page asks for the token).
 */
const OPEN_PATHS = new Set(["/health"]);

const METRICS_PATH = "/metrics";

/**
 * When a token is configured, every other request must carry `Authorization: Bearer <token>`.
 * `/metrics` also takes the metrics token, which reads nothing else; once that is set,
 * `/metrics` needs one of the two even when the API itself needs none.
 */
export function bearerAuth(token: string | null, metricsToken: string | null = null) {
  const main = token === null ? [] : [Buffer.from(token)];
  const forMetrics = metricsToken === null ? main : [...main, Buffer.from(metricsToken)];
  return new Elysia({ name: "agentd.auth" }).onRequest(({ request }) => {
    const path = new URL(request.url).pathname;
    if (OPEN_PATHS.has(path) || isDashboardRequest(request.method, path)) return;
    const accepted = path === METRICS_PATH ? forMetrics : main;
    if (accepted.length === 0) return;
    const header = request.headers.get("authorization") ?? "";
    const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
    if (!accepted.some((expected) => matches(given, expected))) {
      throw new UnauthorizedError(
        path === METRICS_PATH && metricsToken !== null
          ? "missing or wrong bearer token (the metrics token or AGENTD_TOKEN)"
          : "missing or wrong bearer token (set AGENTD_TOKEN)",
      );
    }
  });
}

function matches(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}
