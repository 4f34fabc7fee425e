/**
 * JSON-RPC 2.0 over codex app-server's JSON lines: our requests with ids and their replies, our
 * notifications, and the three kinds of message codex sends (replies, its own requests,
 * notifications). Codex leaves out `"jsonrpc"` in what it writes; it accepts it in what it reads.
 */

/** Parsed JSON of codex's, read field by field where it is used. */
// biome-ignore lint/suspicious/noExplicitAny: codex's JSON is foreign; each reader checks what it uses
export type Json = any;

export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

/** One line from codex, classified. */
export type Incoming =
  | { kind: "reply"; id: number; result: Json; error: RpcError | null }
  | { kind: "request"; id: number | string; method: string; params: Json }
  | { kind: "notification"; method: string; params: Json };

/** The message one line holds, or null when it is not a JSON-RPC message. */
export function parseIncoming(line: string): Incoming | null {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isObject(message)) return null;
  const { id, method } = message;
  const params = message.params ?? null;
  if (typeof method === "string") {
    if (typeof id === "number" || typeof id === "string") {
      return { kind: "request", id, method, params };
    }
    return { kind: "notification", method, params };
  }
  if (typeof id === "number" && ("result" in message || "error" in message)) {
    const error = isObject(message.error) ? (message.error as unknown as RpcError) : null;
    return { kind: "reply", id, result: message.result ?? null, error };
  }
  return null;
}

/** What the session does with the reply to one of its requests; returns the events it means. */
export type ReplyHandler<E> = (result: Json, error: RpcError | null) => E[];

/** Our side of the conversation: ids, the handlers of replies still to come, and the bytes. */
export class RpcChannel<E> {
  private nextId = 1;
  private readonly waiting = new Map<number, ReplyHandler<E>>();

  constructor(private readonly write: (bytes: Uint8Array) => Promise<void>) {}

  /** Sends a request; `onReply` turns its reply into events when it comes. */
  request(method: string, params: object, onReply: ReplyHandler<E>): Promise<void> {
    const id = this.nextId++;
    this.waiting.set(id, onReply);
    return this.send({ id, method, params });
  }

  /** Sends a request and waits for its result (for the handshake). */
  call(method: string, params: object): Promise<Json> {
    const { promise, resolve, reject } = Promise.withResolvers<Json>();
    const sent = this.request(method, params, (result, error) => {
      if (error) reject(new Error(`${method} failed: ${error.message} (code ${error.code})`));
      else resolve(result);
      return [];
    });
    sent.catch(reject);
    return promise;
  }

  notify(method: string, params: object = {}): Promise<void> {
    return this.send({ method, params });
  }

  respond(id: number | string, result: object): Promise<void> {
    return this.send({ id, result });
  }

  respondError(id: number | string, error: RpcError): Promise<void> {
    return this.send({ id, error });
  }

  /** The events a reply means; null when no request of ours has that id. */
  settle(reply: Extract<Incoming, { kind: "reply" }>): E[] | null {
    const handler = this.waiting.get(reply.id);
    if (!handler) return null;
    this.waiting.delete(reply.id);
    return handler(reply.result, reply.error);
  }

  private send(message: object): Promise<void> {
    const line = `${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`;
    return this.write(new TextEncoder().encode(line));
  }
}

export function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
