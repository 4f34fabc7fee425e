import { log } from "../log.ts";
import type { AgentEvent } from "./session.ts";

/**
 * JSON-RPC 2.0 over an agent's stdin and stdout, one message per line, as the structured modes
 * of codex (app-server) and ACP agents speak it: our requests numbered from 1 and their replies,
 * our notifications, and the agent's own requests answered by id. A reply is handled
 * synchronously inside the session's `receive`, so the events it means travel with the line it
 * came on.
 */

export type RpcId = number | string;

/** An agent's JSON, read field by field where it is used. */
// biome-ignore lint/suspicious/noExplicitAny: foreign JSON; each reader checks what it uses
export type Json = any;

export interface RpcErrorBody {
  code: number;
  message: string;
  data?: unknown;
}

export type RpcMessage =
  | { kind: "request"; id: RpcId; method: string; params: Json }
  | { kind: "notification"; method: string; params: Json }
  | { kind: "reply"; id: RpcId; result: Json; error: RpcErrorBody | null };

/** JSON-RPC's own code for a method the other side does not offer. */
export const METHOD_NOT_FOUND = -32601;

/** An error answer to one of our requests. */
export class RpcCallError extends Error {
  constructor(
    readonly method: string,
    readonly body: RpcErrorBody,
  ) {
    super(`${method} failed: ${body.message} (code ${body.code})`);
  }
}

/** A reply to one of our requests, handed to that request's handler. */
export type Reply = { ok: true; result: Json } | { ok: false; error: RpcCallError };

/** What the session makes of the reply to one of its requests: the events it means. */
export type ReplyHandler = (reply: Reply) => AgentEvent[];

/** The message one line holds, or null for a line that is not JSON-RPC. */
export function parseMessage(line: string): RpcMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  const id = value.id;
  const hasId = typeof id === "number" || typeof id === "string";
  const params = value.params ?? {};
  if (typeof value.method === "string") {
    return hasId
      ? { kind: "request", id, method: value.method, params }
      : { kind: "notification", method: value.method, params };
  }
  if (!hasId || !("result" in value || "error" in value)) return null;
  return { kind: "reply", id, result: value.result ?? null, error: errorBody(value.error) };
}

export function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function errorBody(error: unknown): RpcErrorBody | null {
  if (!isObject(error)) return null;
  const { code, message, data } = error;
  return {
    code: typeof code === "number" ? code : 0,
    message: typeof message === "string" ? message : JSON.stringify(error),
    data,
  };
}

/** Our side of the conversation: request ids, the handlers of replies still to come, the bytes. */
export class RpcPeer {
  private nextId = 1;
  private readonly waiting = new Map<RpcId, { method: string; handle: ReplyHandler }>();

  constructor(
    private readonly write: (bytes: Uint8Array) => Promise<void>,
    /** Who the peer is, for the log. */
    private readonly name: string,
  ) {}

  /** A request whose result settles a promise (for a handshake, outside any turn). */
  ask(method: string, params: object): Promise<Json> {
    const { promise, resolve, reject } = Promise.withResolvers<Json>();
    this.request(method, params, (reply) => {
      if (reply.ok) resolve(reply.result);
      else reject(reply.error);
      return [];
    }).catch(reject);
    return promise;
  }

  /** A request whose reply is handled as it is received; settles when it is written. */
  request(method: string, params: object, handle: ReplyHandler): Promise<void> {
    const id = this.nextId++;
    this.waiting.set(id, { method, handle });
    const written = this.send({ id, method, params });
    written.catch(() => this.waiting.delete(id));
    return written;
  }

  notify(method: string, params: object = {}): Promise<void> {
    return this.send({ method, params });
  }

  respond(id: RpcId, result: object): Promise<void> {
    return this.send({ id, result });
  }

  respondError(id: RpcId, error: RpcErrorBody): Promise<void> {
    return this.send({ id, error });
  }

  /** The events a reply means; a reply to nothing we asked is logged and skipped. */
  settle(reply: RpcMessage & { kind: "reply" }): AgentEvent[] {
    const waiting = this.waiting.get(reply.id);
    if (!waiting) {
      log.debug(`${this.name}: a reply to no request of ours (${reply.id})`);
      return [];
    }
    this.waiting.delete(reply.id);
    return waiting.handle(
      reply.error === null
        ? { ok: true, result: reply.result }
        : { ok: false, error: new RpcCallError(waiting.method, reply.error) },
    );
  }

  private send(message: object): Promise<void> {
    const line = `${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`;
    return this.write(new TextEncoder().encode(line));
  }
}
