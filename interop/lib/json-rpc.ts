/**
 * JSON-RPC 2.0 over a CLI's JSON lines (codex app-server, ACP agents): requests with ids,
 * notifications, and the CLI's own requests to us (approvals, permissions) answered by a handler.
 */

import type { CliProcess } from "./cli-process.ts";

export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

export class RpcCallError extends Error {
  constructor(
    readonly method: string,
    readonly error: RpcError,
  ) {
    super(`${method} failed: ${error.code} ${error.message}`);
  }
}

/** A request the CLI sent us, as received. */
export interface IncomingRequest {
  id: number | string;
  method: string;
  // biome-ignore lint/suspicious/noExplicitAny: params are the CLI's JSON, read by each test
  params: any;
}

/** Answers a CLI's request: a result, or an error to send back. */
export type RequestHandler = (request: IncomingRequest) => unknown | { error: RpcError };

interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

export class JsonRpcPeer {
  /** Requests the CLI sent us, in order. */
  readonly incoming: IncomingRequest[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private handler: RequestHandler = (request) => ({
    error: { code: -32601, message: `no handler for ${request.method}` },
  });

  constructor(readonly cli: CliProcess) {
    cli.onMessage((message) => this.dispatch(message));
    void cli.exited.then((code) => {
      for (const [id, pending] of this.pending) {
        pending.reject(
          new Error(`${cli.name} exited (${code}) before answering ${pending.method}`),
        );
        this.pending.delete(id);
      }
    });
  }

  /** How the CLI's own requests (approvals, permissions) are answered from now on. */
  answerRequests(handler: RequestHandler): void {
    this.handler = handler;
  }

  // biome-ignore lint/suspicious/noExplicitAny: results are the CLI's JSON, read by each test
  request<T = any>(method: string, params: unknown = {}): Promise<T> {
    const id = this.nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.pending.set(id, { method, resolve: resolve as (result: unknown) => void, reject });
    this.cli.send({ jsonrpc: "2.0", id, method, params });
    return promise;
  }

  notify(method: string, params: unknown = {}): void {
    this.cli.send({ jsonrpc: "2.0", method, params });
  }

  /** Notifications received so far with this method, as their params. */
  // biome-ignore lint/suspicious/noExplicitAny: params are the CLI's JSON, read by each test
  notifications(method: string): any[] {
    return this.cli.received
      .filter((message) => isObject(message) && message.method === method && !("id" in message))
      .map((message) => (message as { params?: unknown }).params);
  }

  private dispatch(message: unknown): void {
    if (!isObject(message)) return;
    if ("method" in message && "id" in message) {
      void this.answer(message as unknown as IncomingRequest);
      return;
    }
    if ("id" in message && typeof message.id === "number") {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if ("error" in message)
        pending.reject(new RpcCallError(pending.method, message.error as RpcError));
      else pending.resolve(message.result);
    }
  }

  private async answer(request: IncomingRequest): Promise<void> {
    this.incoming.push(request);
    const outcome = await this.handler(request);
    if (isObject(outcome) && "error" in outcome) {
      this.cli.send({ jsonrpc: "2.0", id: request.id, error: outcome.error });
    } else {
      this.cli.send({ jsonrpc: "2.0", id: request.id, result: outcome ?? null });
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
