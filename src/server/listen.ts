import { log } from "../log.ts";
import type { App } from "./app.ts";
import { errorResponse } from "./errors.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

export interface Listener {
  port: number;
  stop(): Promise<void>;
}

/**
 * Serve the app with the two things that must wrap every request: the body limit (checked
 * before anything reads the body, also for chunked bodies) and one log line per request.
 */
export function listen(app: App, hostname: string, port: number): Listener {
  const server = Bun.serve({
    hostname,
    port,
    // SSE streams stay open for hours; idle timeouts are for the heartbeat to prevent.
    idleTimeout: 0,
    async fetch(request) {
      const begin = performance.now();
      const response = await handle(app, request);
      const ms = (performance.now() - begin).toFixed(1);
      log.info(`${request.method} ${new URL(request.url).pathname} ${response.status} ${ms}ms`);
      return response;
    },
  });
  return {
    port: server.port ?? port,
    stop: () => server.stop(true),
  };
}

async function handle(app: App, request: Request): Promise<Response> {
  request = withRoutableUrl(request);
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) return tooLarge(Number(declared));
  if (declared === null && request.body !== null) {
    const body = await readLimited(request.body, MAX_BODY_BYTES);
    if (body === null) return tooLarge(null);
    request = new Request(request, { body });
  }
  return app.handle(request);
}

/**
 * Elysia finds the path by searching for "/" from the 11th character of the URL, so a Host
 * header shorter than 4 characters ("http://a/x") would be routed wrongly. Such requests get
 * a URL with a host long enough; only the path and query matter for routing.
 */
function withRoutableUrl(request: Request): Request {
  const url = new URL(request.url);
  if (url.host.length >= 4) return request;
  return new Request(`http://localhost${url.pathname}${url.search}`, request);
}

function tooLarge(size: number | null): Response {
  const what = size === null ? "request body" : `request body of ${size} bytes`;
  return errorResponse(
    413,
    "payload_too_large",
    `${what} is over the limit of ${MAX_BODY_BYTES} bytes (1 MiB)`,
  );
}

/** The whole stream, or null as soon as it grows past `limit` bytes. */
async function readLimited(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.byteLength;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
