import { Elysia } from "elysia";
import type { Config } from "../config.ts";
import { errorResponse } from "./errors.ts";
import { hostOf } from "./request-url.ts";

const ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE";
const ALLOWED_HEADERS = "authorization, content-type, last-event-id";
const PREFLIGHT_MAX_AGE_S = "600";

/**
 * Requests from web pages. Browsers send `Origin` with every cross-origin request, and with
 * same-origin ones other than GET; a page at an origin not given with --allowed-origins is
 * refused (403) before anything happens, which also stops a page from making the daemon act
 * with a request it sends without asking first (a form post, no CORS preflight). Allowed
 * origins get CORS headers, preflight included; without --allowed-origins there are none.
 */
export function crossOrigin(config: Pick<Config, "allowedOrigins">) {
  const allowed = new Set(config.allowedOrigins);
  return new Elysia({ name: "agentd.cross-origin" }).onRequest(({ request, set }) => {
    const origin = request.headers.get("origin");
    if (origin === null || isSameOrigin(origin, request)) return;
    if (!allowed.has(origin)) {
      return errorResponse(
        403,
        "origin_not_allowed",
        `requests from web pages at ${origin} are refused: give the page's origin with --allowed-origins to let it call agentd`,
      );
    }
    set.headers["access-control-allow-origin"] = origin;
    set.headers.vary = "Origin";
    if (isPreflight(request)) return preflightAnswer(origin);
  });
}

function isSameOrigin(origin: string, request: Request): boolean {
  const host = request.headers.get("host") ?? hostOf(request.url);
  return origin === `http://${host}`;
}

function isPreflight(request: Request): boolean {
  return (
    request.method === "OPTIONS" && request.headers.get("access-control-request-method") !== null
  );
}

function preflightAnswer(origin: string): Response {
  return new Response(null, {
    status: 204,
    headers: {
      "access-control-allow-origin": origin,
      "access-control-allow-methods": ALLOWED_METHODS,
      "access-control-allow-headers": ALLOWED_HEADERS,
      "access-control-max-age": PREFLIGHT_MAX_AGE_S,
      vary: "Origin",
    },
  });
}
