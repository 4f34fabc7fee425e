import { Elysia, t } from "elysia";
import { ProtocolSchema } from "../api/protocols.ts";
import type { AppContext } from "./context.ts";

/** The wire protocols agents can speak, so that a client knows what each one can do. */
export function protocolRoutes(ctx: AppContext) {
  return new Elysia({ tags: ["agents"] }).get("/protocols", () => ctx.agents.protocols(), {
    response: t.Array(ProtocolSchema),
    detail: {
      summary:
        "The protocols agents can speak: the default program of each, and whether a running turn can be cancelled",
    },
  });
}
