import { timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import { UnauthorizedError } from "../errors.ts";

/** Paths anyone may read: liveness must work for probes that hold no token. */
const OPEN_PATHS = new Set(["/health"]);

/** When a token is configured, every other request must carry `Authorization: Bearer <token>`. */
export function bearerAuth(token: string | null) {
  const expected = token === null ? null : Buffer.from(token);
  return new Elysia({ name: "agentd.auth" }).onRequest(({ request }) => {
    if (expected === null || OPEN_PATHS.has(new URL(request.url).pathname)) return;
    const header = request.headers.get("authorization") ?? "";
    const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new UnauthorizedError("missing or wrong bearer token (set AGENTD_TOKEN)");
    }
  });
}
