import type { AgentEvent } from "../session.ts";

/**
 * JSON-RPC 2.0 as ACP carries it over an agent's stdin and stdout: one message per line, our
 * requests numbered from 1, the agent's own requests answered by id. A reply is handled
 * synchronously inside `receive`, so the events it means travel with the line it came on.
 */

export type RpcId = number | string;

// biome-ignore lint/suspicious/noExplicitAny: an agent's JSON, read field by field where used
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

type ReplyHandler = (reply: Reply) => AgentEvent[];

/** The message one line holds, or null for a line that is not JSON-RPC. */
export function parseMessage(line: string): RpcMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const message = value as Record<string, unknown>;
  const id = message.id;
  const hasId = typeof id === "number" || typeof id === "string";
  if (typeof message.method === "string") {
    return hasId
      ? { kind: "request", id, method: message.method, params: message.params ?? {} }
      : { kind: "notification", method: message.method, params: message.params ?? {} };
  }
  if (!hasId) return null;
  return { kind: "reply", id, result: message.result ?? null, error: errorBody(message.error) };
}

function errorBody(error: unknown): RpcErrorBody | null {
  if (typeof error !== "object" || error === null) return null;
  const { code, message, data } = error as Record<string, unknown>;
  return {
    code: typeof code === "number" ? code : 0,
    message: typeof message === "string" ? message : JSON.stringify(error),
    data,
  };
}

export class RpcPeer {
  private nextId = 1;
  private readonly waiting = new Map<RpcId, { method: string; handle: ReplyHandler }>();

  constructor(private readonly write: (bytes: Uint8Array) => Promise<void>) {}

  /** A request whose reply settles a promise (for the handshake, outside any turn). */
  request(method: string, params: object): Promise<Json> {
    const { promise, resolve, reject } = Promise.withResolvers<Json>();
    const { written } = this.call(method, params, (reply) => {
      if (reply.ok) resolve(reply.result);
      else reject(reply.error);
      return [];
    });
    written.catch(reject);
    return promise;
  }

  /** A request whose reply is handled as it is received; `written` settles with the write. */
  call(method: string, params: object, handle: ReplyHandler): { written: Promise<void> } {
    const id = this.nextId++;
    this.waiting.set(id, { method, handle });
    const written = this.send({ id, method, params });
    written.catch(() => this.waiting.delete(id));
    return { written };
  }

  notify(method: string, params: object): Promise<void> {
    return this.send({ method, params });
  }

  respond(id: RpcId, result: object): Promise<void> {
    return this.send({ id, result });
  }

  respondError(id: RpcId, error: RpcErrorBody): Promise<void> {
    return this.send({ id, error });
  }

  /** The events a reply means; a reply to nothing we asked is skipped. */
  settle(reply: RpcMessage & { kind: "reply" }): AgentEvent[] {
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return [];
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
