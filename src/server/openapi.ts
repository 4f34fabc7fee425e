import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { StoredEventSchema } from "../api/events.ts";

/**
 * The OpenAPI document at /openapi/json and a small self-contained page at /openapi that
 * renders it. The plugin's own UIs load scripts from a CDN; this one needs no network.
 */
export function openapiRoutes(version: string) {
  return new Elysia()
    .use(
      openapi({
        provider: null,
        path: "/openapi",
        specPath: "/openapi/json",
        documentation: {
          info: {
            title: "agentd",
            version,
            description: "Supervises LLM coding agents: runs, persistent agents, turns and events.",
          },
          components: { schemas: { StoredEvent: StoredEventSchema } },
        },
      }),
    )
    .get(
      "/openapi",
      () => new Response(OPENAPI_PAGE, { headers: { "content-type": "text/html; charset=utf-8" } }),
      { detail: { hide: true } },
    );
}

const OPENAPI_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>agentd API</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.4rem; }
details { border: 1px solid #ccc; border-radius: 4px; margin: .4rem 0; padding: .3rem .6rem; }
summary { cursor: pointer; }
.method { display: inline-block; width: 4.5rem; font-weight: 700; font-family: monospace; }
code, pre { font-family: ui-monospace, monospace; }
pre { background: #f6f6f6; padding: .5rem; overflow: auto; }
</style>
</head>
<body>
<h1>agentd API</h1>
<p>The raw document: <a href="/openapi/json">/openapi/json</a>.</p>
<div id="ops">Loading…</div>
<script>
fetch("/openapi/json").then(r => r.json()).then(doc => {
  const root = document.getElementById("ops");
  root.textContent = "";
  for (const [path, ops] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(ops)) {
      const d = document.createElement("details");
      const s = document.createElement("summary");
      const m = document.createElement("span");
      m.className = "method";
      m.textContent = method.toUpperCase();
      s.append(m, document.createTextNode(path + (op.summary ? " — " + op.summary : "")));
      const pre = document.createElement("pre");
      pre.textContent = JSON.stringify({ parameters: op.parameters, requestBody: op.requestBody, responses: op.responses }, null, 2);
      d.append(s, pre);
      root.append(d);
    }
  }
}).catch(e => { document.getElementById("ops").textContent = "Could not load the document: " + e; });
</script>
</body>
</html>
`;
