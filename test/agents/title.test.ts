import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { heuristicTitle, TITLE_MAX_CHARS } from "../../src/agents/title.ts";
import { type FakeLlm, type FakeLlmOptions, startFakeLlm } from "../fixtures/fake-llm.ts";
import { ask, getAgent, spawnFake } from "../helpers/agents.ts";
import { startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const servers: FakeLlm[] = [];
afterAll(async () => {
  await stopAllDaemons();
  await Promise.all(servers.map((server) => server.stop()));
});

const PROMPT = "\n   \n  Refactor the config parser  \nand keep the flags working";

/** A daemon whose title endpoint is a fake LLM server. */
async function daemonWithTitles(options: FakeLlmOptions): Promise<[TestDaemon, FakeLlm]> {
  const llm = startFakeLlm(options);
  servers.push(llm);
  const daemon = await startDaemon({
    env: {
      AGENTD_TITLE_URL: llm.url,
      AGENTD_TITLE_MODEL: "title-model-1",
      AGENTD_TITLE_KEY: "sk-test-key",
    },
  });
  return [daemon, llm];
}

function titleOf(daemon: TestDaemon, agentId: string): Promise<string> {
  return waitFor(
    `a title for ${agentId}`,
    async () => (await getAgent(daemon, agentId)).title ?? undefined,
  );
}

describe("heuristic title", () => {
  test("is the first non-empty line of the prompt, trimmed", () => {
    expect(heuristicTitle(PROMPT)).toBe("Refactor the config parser");
    expect(heuristicTitle("one line\r\nsecond")).toBe("one line");
  });

  test("keeps a line of exactly 60 characters whole", () => {
    const line = "x".repeat(TITLE_MAX_CHARS);
    expect(heuristicTitle(line)).toBe(line);
  });

  test("cuts a longer line to at most 60 characters, ending in …", () => {
    const title = heuristicTitle(`${"word ".repeat(30)}end`);
    expect([...title].length).toBeLessThanOrEqual(TITLE_MAX_CHARS);
    expect(title.endsWith("…")).toBe(true);
    expect(title.startsWith("word word")).toBe(true);
    const wide = heuristicTitle("é".repeat(100));
    expect(wide).toBe(`${"é".repeat(TITLE_MAX_CHARS - 1)}…`);
  });

  test("a prompt with no text gets a placeholder", () => {
    expect(heuristicTitle(" \n\t\n")).toBe("untitled");
  });
});

describe("agent titles", () => {
  test("without a title endpoint, the first completed turn sets the heuristic title", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    expect(agent.title).toBeNull();
    await ask(daemon, agent.id, PROMPT);
    expect((await getAgent(daemon, agent.id)).title).toBe("Refactor the config parser");
    await ask(daemon, agent.id, "something else entirely");
    expect((await getAgent(daemon, agent.id)).title).toBe("Refactor the config parser");
    await daemon.stop();
  });

  test("with an OpenAI-compatible endpoint, the title comes from it, asked with the model and key", async () => {
    const [daemon, llm] = await daemonWithTitles({ reply: "Fancy title" });
    const agent = await spawnFake(daemon, { prompt: PROMPT });
    expect(await titleOf(daemon, agent.id)).toBe("Fancy title");
    expect(llm.requests).toHaveLength(1);
    const [request] = llm.requests;
    expect(request?.headers.authorization).toBe("Bearer sk-test-key");
    expect(request?.body.model).toBe("title-model-1");
    expect(JSON.stringify(request?.body.messages)).toContain("Refactor the config parser");
    await daemon.stop();
  });

  test("when the endpoint answers 500, the title falls back to the heuristic", async () => {
    const [daemon, llm] = await daemonWithTitles({ status: 500 });
    const agent = await spawnFake(daemon, { prompt: PROMPT });
    expect(await titleOf(daemon, agent.id)).toBe("Refactor the config parser");
    expect(llm.requests).toHaveLength(1);
    await daemon.stop();
  });

  test("turns that complete while the endpoint is still answering do not ask again", async () => {
    const { promise: hold, resolve: release } = Promise.withResolvers<void>();
    const [daemon, llm] = await daemonWithTitles({ reply: "Fancy title", hold });
    const agent = await spawnFake(daemon, { prompt: PROMPT });
    await waitFor("the title request", () => llm.requests.length === 1);
    await ask(daemon, agent.id, "second turn");
    await ask(daemon, agent.id, "third turn");
    release();
    expect(await titleOf(daemon, agent.id)).toBe("Fancy title");
    expect(llm.requests).toHaveLength(1);
    await daemon.stop();
  });
});
