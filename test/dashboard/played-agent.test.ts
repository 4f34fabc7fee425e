import { afterAll, afterEach, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { BrowserContext } from "playwright-core";
import type { AgentView, SendResult } from "../../src/api/schemas.ts";
import { setLogLevel } from "../../src/log.ts";
import { listen } from "../../src/server/listen.ts";
import {
  describeWithBrowser,
  expectPagesTroubleFree,
  launchBrowser,
  openPage,
} from "../helpers/browser.ts";
import { inProcessAgentd } from "../helpers/in-process.ts";
import { waitFor } from "../helpers/wait.ts";

// A browser on a loaded machine.
setDefaultTimeout(120_000);

/**
 * The agent page in a real browser, for an agent the test plays (the in-process daemon, served
 * over HTTP): what it shows of tool calls, and the cancel button, which depends on what the
 * agent's protocol can do.
 */

let browser: BrowserContext;
const listeners: { stop(): Promise<void> }[] = [];

async function servedWorld() {
  const world = inProcessAgentd();
  const listener = listen(world.app, { ...world.config, host: "127.0.0.1", port: 0 });
  listeners.push(listener);
  return { world, url: `http://127.0.0.1:${listener.port}` };
}

async function create(world: ReturnType<typeof inProcessAgentd>, protocol: string) {
  const created = await world.request<AgentView>("POST", "/agents", {
    name: `${protocol}-agent`,
    protocol,
    command: [process.execPath],
    cwd: world.home,
  });
  expect(created.status).toBe(201);
  return created.body;
}

describeWithBrowser("the agent page, with an agent the test plays", () => {
  beforeAll(async () => {
    // The listener logs each request at info, as the daemon does; the test's output has no use for them.
    setLogLevel("warn");
    browser = await launchBrowser();
  });
  afterEach(expectPagesTroubleFree);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(listeners.map((listener) => listener.stop()));
  });

  test("a running turn has a cancel button where the protocol can cancel, which interrupts it", async () => {
    const { world, url } = await servedWorld();
    const agent = await create(world, "scripted");
    const page = await openPage(browser, `${url}/#/agents/${agent.id}`);
    await page.locator("#prompt").fill("a long job");
    await page.getByRole("button", { name: "Send" }).click();
    const turnRow = page.locator("tr[data-turn]").filter({ hasText: "a long job" });
    await turnRow.getByText("queued").waitFor();
    const turnId = (await turnRow.getAttribute("data-turn")) as string;
    world.agent.say(agent.id, { type: "turn.started", turn_id: turnId });
    await turnRow.getByText("running").waitFor();

    await turnRow.getByRole("button", { name: "Cancel turn" }).click();
    await waitFor("the cancel to reach the agent", () =>
      world.agent.written(agent.id).some((line) => line.includes(`"cancel":"${turnId}"`)),
    );
    world.agent.say(agent.id, {
      type: "turn.cancelled",
      turn_id: turnId,
      reason: "cancelled by the operator",
    });
    await turnRow.locator('[data-status="cancelled"]').waitFor();
    await page.locator(".answer").getByText("cancelled by the operator").waitFor();
    expect(await turnRow.getByRole("button", { name: "Cancel turn" }).count()).toBe(0);
  });

  test("where the protocol cannot cancel, a running turn has no cancel button, and the page says why", async () => {
    const { world, url } = await servedWorld();
    const agent = await create(world, "omni");
    const sent = await world.request<SendResult>("POST", `/agents/${agent.id}/send`, {
      message: "a long job",
    });
    const page = await openPage(browser, `${url}/#/agents/${agent.id}`);
    const turnRow = page.locator(`tr[data-turn="${sent.body.turn_id}"]`);
    await turnRow.getByText("queued").waitFor();
    await page.getByText("The omni protocol cannot interrupt a turn").waitFor();
    expect(await page.getByRole("button", { name: "Cancel turn" }).count()).toBe(0);
    await page.getByText("omni (cannot cancel turns)").waitFor();
  });

  test("the conversation folds each turn's tool calls away between its prompt and its answer", async () => {
    const { world, url } = await servedWorld();
    const agent = await create(world, "scripted");
    const page = await openPage(browser, `${url}/#/agents/${agent.id}`);
    await page.locator(".stream-live").waitFor();
    const sent = await world.request<SendResult>("POST", `/agents/${agent.id}/send`, {
      message: "read the config",
    });
    const turn_id = sent.body.turn_id;
    world.agent.say(
      agent.id,
      { type: "turn.started", turn_id },
      { type: "tool", phase: "call", name: "read_file", detail: { path: "config.toml" } },
      { type: "tool", phase: "result", name: "read_file", detail: "port = 8400" },
      { type: "tool", phase: "call", name: "grep", detail: { pattern: "port" } },
      { type: "turn.completed", turn_id, response: "The port is 8400." },
    );
    const conversation = page.locator(".conversation");
    await conversation.getByText("The port is 8400.").waitFor();
    const tools = conversation.locator(".tool-calls details");
    await tools.getByText("2 tool calls").waitFor();
    expect(await tools.getAttribute("open")).toBeNull();
    expect(await conversation.getByText("config.toml").isVisible()).toBe(false);
    // In order: the prompt, its tool calls, the answer.
    const order = await conversation
      .locator(":scope > li")
      .evaluateAll((items) => items.map((item) => item.className));
    expect(order).toEqual(["message user", "tool-calls", "message assistant"]);

    await tools.locator("summary").click();
    await conversation.getByText("config.toml").waitFor();
    await conversation.getByText("port = 8400").waitFor();
  });
});
