import type { Server } from "bun";
import { type Config, MAX_BODY_BYTES } from "../config.ts";
import { log } from "../log.ts";
import type { App } from "./app.ts";
import { errorResponse } from "./errors.ts";
import { hostOf, pathAndQueryOf, pathOf } from "./request-url.ts";
import { endsItsConnection } from "./streaming.ts";

export interface Listener {
  port: number;
  stop(): Promise<void>;
}

/** A request that takes longer than this is worth a warning, unless it may wait by design. */
const SLOW_REQUEST_MS = 1000;

/**
 * Serve the app with what must wrap every request: the body limit (checked before anything
 * reads the body, also for chunked bodies), the idle timeout, and one log line per request
 * (debug; a warning for a server error or a slow answer).
 *
 * A connection is closed after `httpIdleTimeoutS` of silence while the client sends its request
 * and between requests, so idle keep-alive connections cannot pile up until no descriptor is
 * left. While the daemon answers, silence is expected (a wait for a turn, an event stream
 * between heartbeats, a followed log): the timer is off until the answer starts, and a
 * streamed answer keeps it off and ends its connection when it ends.
 */
export function listen(app: App, config: Pick<Config, "host" | "port" | "httpIdleTimeoutS">) {
  const idle = config.httpIdleTimeoutS;
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    idleTimeout: idle,
    async fetch(request, server) {
      const begin = performance.now();
      const response = await handle(app, request, server, idle);
      logRequest(request, response.status, performance.now() - begin);
      return response;
    },
  });
  return {
    port: server.port ?? config.port,
    stop: () => server.stop(true),
  } satisfies Listener;
}

function logRequest(request: Request, status: number, ms: number): void {
  const serverError = status >= 500;
  const slow = ms >= SLOW_REQUEST_MS && !mayWait(request);
  if (!serverError && !slow && !log.enabled("debug")) return;
  const line = `${request.method} ${pathOf(request.url)} ${status} ${ms.toFixed(1)}ms`;
  if (serverError) log.warn(line);
  else if (slow) log.warn(`${line} (slow)`);
  else log.debug(line);
}

/** Requests that wait for an agent (a turn's end) or stream: slow by design. */
function mayWait(request: Request): boolean {
  const url = new URL(request.url);
  return (
    url.searchParams.has("wait") || url.searchParams.has("follow") || url.pathname.endsWith("/send")
  );
}

async function handle(app: App, received: Request, server: Server<undefined>, idle: number) {
  const request = await readBody(withRoutableUrl(received));
  if (request instanceof Response) return request;
  server.timeout(received, 0);
  const response = await app.handle(request);
  if (!endsItsConnection(response)) server.timeout(received, idle);
  return response;
}

/** The request with its whole body read (within the limit), or the 413 answer. */
async function readBody(request: Request): Promise<Request | Response> {
  const declared = request.headers.get("content-length");
  // Without a length or a chunked encoding an HTTP/1.1 request has no body (most GETs).
  if (declared === null && !request.headers.has("transfer-encoding")) return request;
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) return tooLarge(Number(declared));
  if (request.body === null) return request;
  // A declared length is what Bun reads, no more: the body is read whole at once.
  const body =
    declared !== null ? await request.bytes() : await readLimited(request.body, MAX_BODY_BYTES);
  if (body === null) return tooLarge(null);
  return new Request(request, { body: body.byteLength === 0 ? null : body });
}

/**
 * Elysia finds the path by searching for "/" from the 11th character of the URL, so a Host
 * header shorter than 4 characters ("http://a/x") would be routed wrongly. Such requests get
 * a URL with a host long enough; only the path and query matter for routing (the Host header
 * itself is kept, and checked).
 */
function withRoutableUrl(request: Request): Request {
  if (hostOf(request.url).length >= 4) return request;
  return new Request(`http://localhost${pathAndQueryOf(request.url)}`, request);
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
