// The daemon-start baseline: a compiled Bun.serve that says where it listens, as agentd does.
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
process.stdout.write(`listening on http://127.0.0.1:${server.port}\n`);
