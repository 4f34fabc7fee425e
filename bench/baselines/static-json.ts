/**
 * The HTTP baseline: an Elysia app that returns the same JSON bytes agentd answered with, from
 * constant routes. Arguments: a file with GET /agents's body, one with GET /agents/:id's.
 * Says {url} when listening; stops when stdin closes.
 */
import { readFileSync } from "node:fs";
import { Elysia } from "elysia";
import { serve } from "./protocol.ts";

const [listFile, oneFile] = Bun.argv.slice(2);
if (!listFile || !oneFile) throw new Error("usage: static-json.ts LIST_BODY_FILE AGENT_BODY_FILE");
const list = readFileSync(listFile, "utf8");
const one = readFileSync(oneFile, "utf8");

const app = new Elysia()
  .get("/agents", ({ set }) => {
    set.headers["content-type"] = "application/json";
    return list;
  })
  .get("/agents/:id", ({ set }) => {
    set.headers["content-type"] = "application/json";
    return one;
  })
  .listen({ hostname: "127.0.0.1", port: 0 });

await serve({ url: `http://127.0.0.1:${app.server?.port}` }, async () => {
  throw new Error("takes no requests");
});
await app.stop();
