import { describe, expect, test } from "bun:test";
import type { ProtocolView } from "../../src/api/protocols.ts";
import { builtinProtocols } from "../../src/protocols/index.ts";
import { handshake } from "../fixtures/handshake-protocol.ts";
import { inProcessAgentd } from "../helpers/in-process.ts";

describe("GET /protocols", () => {
  test("lists every protocol with its default program and what it can do", async () => {
    const world = inProcessAgentd({
      protocols: [handshake],
      flags: { agentCommand: "my-agent" },
    });
    const answer = await world.request<ProtocolView[]>("GET", "/protocols");
    expect(answer.status).toBe(200);
    const byName = new Map(answer.body.map((protocol) => [protocol.name, protocol]));
    const expected = [...builtinProtocols().keys(), "scripted", "handshake"];
    expect([...byName.keys()].sort()).toEqual(expected.sort());
    // omni runs the daemon's agent command; it cannot interrupt a turn.
    expect(byName.get("omni")).toEqual({
      name: "omni",
      command: "my-agent",
      default: true,
      capabilities: { envelopes: true, cancel: false, resume: false },
    });
    expect(byName.get("handshake")).toMatchObject({
      default: false,
      capabilities: { cancel: true },
    });
  });

  test("what it says about cancelling is what POST .../cancel does", async () => {
    const world = inProcessAgentd();
    const protocols = (await world.request<ProtocolView[]>("GET", "/protocols")).body;
    const checked = protocols.filter((p) => p.name === "omni" || p.name === "scripted");
    expect(checked.map((p) => p.capabilities.cancel).sort()).toEqual([false, true]);
    for (const protocol of checked) {
      const created = await world.request<{ id: string }>("POST", "/agents", {
        protocol: protocol.name,
        command: [process.execPath],
        cwd: world.home,
      });
      const sent = await world.request<{ turn_id: string }>(
        "POST",
        `/agents/${created.body.id}/send`,
        { message: "hi" },
      );
      const cancel = await world.request(
        "POST",
        `/agents/${created.body.id}/turns/${sent.body.turn_id}/cancel`,
      );
      expect(cancel.status === 409).toBe(!protocol.capabilities.cancel);
    }
  });
});
