import { afterAll, afterEach, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { DEFAULT_AGENT_PAGE } from "../../src/api/paging.ts";
import type { AgentView } from "../../src/api/schemas.ts";
import {
  describeWithBrowser,
  expectPagesTroubleFree,
  launchBrowser,
  openPage,
  screenshot,
} from "../helpers/browser.ts";
import { mustBuild } from "../helpers/build.ts";
import { MAIN, startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { newRepo } from "../helpers/git.ts";
import { tempDir } from "../helpers/tmp.ts";
import { waitFor } from "../helpers/wait.ts";

// A browser and real daemons on a loaded machine.
setDefaultTimeout(120_000);

/**
 * The dashboard in a real browser (Debian's Chromium) against real daemons running the echo
 * agent: what an operator sees and does, end to end.
 */

const ECHO = [process.execPath, MAIN, "echo-agent"];

let browser: BrowserContext;

async function createEcho(daemon: TestDaemon, body: object = {}): Promise<AgentView> {
  const created = await daemon.api<AgentView>("/agents", {
    method: "POST",
    body: JSON.stringify({ command: ECHO, ...body }),
  });
  if (created.status !== 201) throw new Error(`create: ${JSON.stringify(created.body)}`);
  return created.body;
}

async function turnsDone(daemon: TestDaemon, id: string): Promise<number> {
  return (await daemon.api<AgentView>(`/agents/${id}`)).body.turns;
}

async function agentStatus(daemon: TestDaemon, id: string): Promise<string> {
  return (await daemon.api<AgentView>(`/agents/${id}`)).body.status;
}

const row = (page: Page, id: string) => page.locator(`tr[data-agent="${id}"]`);
const pageStatus = (page: Page) => page.locator(".page-head .badge");
const streamLive = (page: Page) => page.locator(".stream-live").waitFor();

/** The seq of every event the page shows for the agent, and of every one the daemon stored. */
async function shownSeqs(page: Page): Promise<number[]> {
  return (await page
    .locator(".events li[data-seq]")
    .evaluateAll((items) =>
      items.map((item) => Number(item.getAttribute("data-seq"))),
    )) as number[];
}

async function storedSeqs(daemon: TestDaemon, id: string): Promise<number[]> {
  const text = await (await fetch(`${daemon.url}/agents/${id}/events?since=0&follow=0`)).text();
  return [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));
}

describeWithBrowser("the dashboard in a browser", () => {
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterEach(expectPagesTroubleFree);
  afterAll(async () => {
    await browser?.close();
    await stopAllDaemons();
  });

  test("the overview lists a new agent within a second of its creation, without a reload", async () => {
    const daemon = await startDaemon();
    const page = await openPage(browser, `${daemon.url}/`);
    await streamLive(page);
    await page.getByText("No agents yet").waitFor();
    // Gone if the page were loaded again.
    await page.evaluate("window.loadedOnce = true");

    const agent = await createEcho(daemon, { name: "fresh", prompt: "hello there" });
    await row(page, agent.id).waitFor({ timeout: 1_000 });

    // It goes on changing as the agent works: its first turn, its cost, its title.
    await waitFor("the first turn to show", async () =>
      (await row(page, agent.id).textContent())?.includes("$0.0010"),
    );
    const text = await row(page, agent.id).textContent();
    expect(text).toContain("fresh");
    expect(text).toContain("hello there");
    expect(text).toContain("omni");
    expect(text).toContain("run");
    await waitFor("the totals", async () =>
      (await page.locator('[data-total="cost-overall"]').textContent())?.includes("$0.0010"),
    );
    expect(await page.locator('[data-total="cost-today"]').textContent()).toBe("$0.0010");
    expect(await page.locator('[data-total="agents"]').textContent()).toBe("1");
    expect(await page.evaluate("window.loadedOnce")).toBe(true);
  });

  test("an agent removed elsewhere leaves the overview at once", async () => {
    const daemon = await startDaemon();
    const agent = await createEcho(daemon, { name: "short-lived" });
    const page = await openPage(browser, `${daemon.url}/`);
    await row(page, agent.id).waitFor();
    expect((await daemon.api(`/agents/${agent.id}`, { method: "DELETE" })).status).toBe(200);
    await row(page, agent.id).waitFor({ state: "detached" });
    await page.getByText("No agents yet").waitFor();
  });

  test(`the overview shows every agent, more than a page of the list (${DEFAULT_AGENT_PAGE})`, async () => {
    const daemon = await startDaemon();
    const agents: AgentView[] = [];
    for (let i = 0; i <= DEFAULT_AGENT_PAGE; i++) {
      agents.push(await createEcho(daemon, { name: `many${i}`, start: false }));
    }
    const page = await openPage(browser, `${daemon.url}/`);
    await streamLive(page);
    await waitFor("every agent to be counted", async () =>
      (await page.locator('[data-total="agents"]').textContent()) === String(agents.length)
        ? true
        : undefined,
    );
    expect(await page.locator("tr[data-agent]").count()).toBe(agents.length);
  });

  test("filters by status and mode, and searches", async () => {
    const daemon = await startDaemon();
    const kept = await createEcho(daemon, { name: "kept-one", prompt: "find me" });
    const other = await createEcho(daemon, { name: "other-one", start: false });
    const page = await openPage(browser, `${daemon.url}/`);
    await row(page, kept.id).waitFor();
    await row(page, other.id).waitFor();

    await page.getByPlaceholder(/^Search/).fill("find me");
    await row(page, other.id).waitFor({ state: "detached" });
    expect(await row(page, kept.id).isVisible()).toBe(true);
    await page.getByPlaceholder(/^Search/).fill("");

    // The status chips count the agents, and pick one status.
    await page.getByRole("button", { name: /pending\s*1/ }).click();
    await row(page, kept.id).waitFor({ state: "detached" });
    expect(await row(page, other.id).isVisible()).toBe(true);
    await page.getByRole("button", { name: /pending\s*1/ }).click();

    await page.getByRole("combobox").nth(1).selectOption("persistent");
    await page.getByText("No agent matches these filters.").waitFor();
  });

  test("a prompt sent from the agent page (reached by keyboard) shows its answer", async () => {
    const daemon = await startDaemon();
    const agent = await createEcho(daemon, { name: "talker" });
    const page = await openPage(browser, `${daemon.url}/`);
    await row(page, agent.id).waitFor();

    // Tab to the agent's link and follow it with Enter.
    const focused = () => page.evaluate("document.activeElement?.getAttribute('href')");
    for (let presses = 0; (await focused()) !== `#/agents/${agent.id}`; presses++) {
      if (presses > 40) throw new Error("the agent's link cannot be reached with Tab");
      await page.keyboard.press("Tab");
    }
    await page.keyboard.press("Enter");
    await page.locator("#prompt").waitFor();
    expect(page.url()).toEndWith(`#/agents/${agent.id}`);

    await page.locator("#prompt").focus();
    await page.keyboard.type("what is new");
    await page.keyboard.press("Enter");
    await page.locator(".answer-text").getByText("echo: what is new").waitFor();
    await page.locator(".conversation").getByText("echo: what is new").waitFor();
    await page.locator(".turns").getByText("what is new").waitFor();
    await page.locator("pre.log").getByText("what is new").first().waitFor();
  });

  test("stop and start from the agent page change the status live, on the overview too", async () => {
    const daemon = await startDaemon();
    const agent = await createEcho(daemon, { name: "stoppable" });
    const overview = await openPage(browser, `${daemon.url}/`);
    await row(overview, agent.id).getByText("idle").waitFor();
    const page = await openPage(browser, `${daemon.url}/#/agents/${agent.id}`);
    await streamLive(page);
    await pageStatus(page).getByText("idle").waitFor();

    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await pageStatus(page).getByText("stopped").waitFor();
    await row(overview, agent.id).getByText("stopped").waitFor();
    expect(await agentStatus(daemon, agent.id)).toBe("stopped");
    await page.getByText("The agent is not running").waitFor();

    // A prompt to a stopped agent: the daemon's refusal, in its words.
    const refusal = await daemon.api<{ error: { message: string } }>(`/agents/${agent.id}/send`, {
      method: "POST",
      body: JSON.stringify({ message: "anyone?" }),
    });
    expect(refusal.status).toBe(409);
    await page.locator("#prompt").fill("anyone?");
    await page.getByRole("button", { name: "Send" }).click();
    await page
      .locator(".prompt-box .error-message")
      .getByText(refusal.body.error.message)
      .waitFor();
    expect(await page.locator("body").textContent()).not.toContain("[object Object]");

    await page.getByRole("button", { name: "Start", exact: true }).click();
    await pageStatus(page).getByText("idle").waitFor();
    await row(overview, agent.id).getByText("idle").waitFor();
    await page.getByText("Following the log as it grows.").waitFor();
  });

  test("the agent page's event stream resumes after the daemon cuts it, missing nothing and repeating nothing", async () => {
    // A buffer of one live event: a turn's events, published together, overflow it and the
    // daemon cuts the stream; the page reconnects with Last-Event-ID.
    const daemon = await startDaemon({ env: { AGENTD_SSE_BUFFER: "1" } });
    const agent = await createEcho(daemon, { name: "resumer" });
    const page = await openPage(browser, `${daemon.url}/#/agents/${agent.id}`);
    await streamLive(page);
    for (const message of ["first", "second"]) {
      await daemon.api(`/agents/${agent.id}/send`, {
        method: "POST",
        body: JSON.stringify({ message, wait: true }),
      });
    }
    await page
      .locator(".stream")
      .getByText(/reconnected \d+×/)
      .waitFor();
    await page.locator(".conversation").getByText("echo: second").waitFor();
    const stored = await storedSeqs(daemon, agent.id);
    await waitFor("the page to show every stored event", async () => {
      const shown = await shownSeqs(page);
      return shown.at(-1) === stored.at(-1);
    });
    expect(await shownSeqs(page)).toEqual(stored);
  });

  test("with a token, the page without it asks for it and shows no data; a wrong one is refused clearly", async () => {
    const token = "s3cret-dashboard-token";
    const daemon = await startDaemon({ args: ["--token", token] });
    const authed = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const create = async (name: string) =>
      (await (
        await fetch(`${daemon.url}/agents`, {
          method: "POST",
          headers: authed,
          body: JSON.stringify({ name, command: ECHO, start: false }),
        })
      ).json()) as AgentView;
    const secret = await create("secret-agent");

    const page = await openPage(browser, `${daemon.url}/`);
    await page.getByLabel("API token").waitFor();
    expect(await page.locator("table.agents").count()).toBe(0);
    expect(await page.locator("body").textContent()).not.toContain("secret-agent");

    await page.getByLabel("API token").fill("not-the-token");
    await page.getByRole("button", { name: "Use this token" }).click();
    await page.getByText("The daemon refused this token").waitFor();
    expect(await page.locator("body").textContent()).not.toContain("secret-agent");

    await page.getByLabel("API token").fill(token);
    await page.getByRole("button", { name: "Use this token" }).click();
    await row(page, secret.id).waitFor();
    // The event stream works with the token: a new agent shows up live.
    const later = await create("later-agent");
    await row(page, later.id).waitFor();

    // Kept for this tab, in sessionStorage only: not in the URL, not in a cookie.
    expect(page.url()).not.toContain(token);
    expect(await browser.cookies()).toEqual([]);
    expect(await page.evaluate(() => sessionStorage.getItem("agentd.token"))).toBe(token);
    await page.reload();
    await row(page, secret.id).waitFor();
    // Another tab has its own session: it asks again.
    const other = await openPage(browser, `${daemon.url}/`);
    await other.getByLabel("API token").waitFor();
    await other.close();

    await page.getByRole("button", { name: "Forget token" }).click();
    await page.getByLabel("API token").waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("agentd.token"))).toBeNull();
  });

  test("delete asks first, shows the work the daemon would not lose, and deletes when told to", async () => {
    const daemon = await startDaemon();
    const repo = newRepo();
    const agent = await createEcho(daemon, { name: "worker", worktree: { repo } });
    const worktree = agent.workspace?.path as string;
    writeFileSync(join(worktree, "unsaved-notes.txt"), "work in progress\n");

    const page = await openPage(browser, `${daemon.url}/#/agents/${agent.id}`);
    await streamLive(page);
    await page.getByRole("button", { name: "Delete…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("Delete worker?").waitFor();
    await dialog.getByRole("button", { name: "Keep it" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect(await agentStatus(daemon, agent.id)).toBe("idle");

    await page.getByRole("button", { name: "Delete…" }).click();
    await dialog.getByRole("button", { name: "Delete", exact: true }).click();
    await dialog.getByText("would lose work").waitFor();
    await dialog.locator(".work-at-risk").getByText("unsaved-notes.txt").waitFor();
    expect(await agentStatus(daemon, agent.id)).toBe("idle");

    await dialog.getByRole("button", { name: "Delete anyway, losing this work" }).click();
    await page.getByRole("heading", { name: `Deleted ${agent.id}` }).waitFor();
    await page.getByText(/was removed/).waitFor();
    expect((await daemon.api(`/agents/${agent.id}`)).status).toBe(404);
  });

  test("the new agent form creates an agent and opens its page with its first answer; refusals show the daemon's message", async () => {
    const daemon = await startDaemon();
    const page = await openPage(browser, `${daemon.url}/#/new`);
    await page.getByLabel("Name").fill("has spaces");
    await page.getByLabel("Command").fill(ECHO.map((word) => `'${word}'`).join(" "));
    await page.getByRole("button", { name: "Create agent" }).click();
    const refused = page.locator(".error-note .error-message");
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(/name/);
    expect(await page.locator("body").textContent()).not.toContain("[object Object]");

    await page.getByLabel("Command").fill("agent | tee out");
    await page.getByRole("button", { name: "Create agent" }).click();
    await page.getByText('the command has the shell operator "|"').waitFor();

    await page.getByLabel("Name").fill("from-the-form");
    await page.getByLabel("Command").fill(ECHO.map((word) => `'${word}'`).join(" "));
    await page.getByLabel("Model").fill("echo-model");
    await page.getByLabel("First prompt").fill("first words");
    await page.getByRole("button", { name: "Create agent" }).click();
    await page.locator(".conversation").getByText("echo: first words").waitFor();
    const id = decodeURIComponent(new URL(page.url()).hash.replace("#/agents/", ""));
    const agent = (await daemon.api<AgentView>(`/agents/${id}`)).body;
    expect(agent).toMatchObject({ name: "from-the-form", model: "echo-model", command: ECHO });
  });

  test("fits a 390-pixel phone and follows the system's dark scheme; screenshots for the README", async () => {
    const daemon = await startDaemon();
    const busy = await createEcho(daemon, { name: "refactor-auth" });
    for (const message of ["Refactor the auth module", "Now the session handling"]) {
      await daemon.api(`/agents/${busy.id}/send`, {
        method: "POST",
        body: JSON.stringify({ message, wait: true }),
      });
    }
    await createEcho(daemon, { name: "write-tests", prompt: "Add tests for the parser" });
    const stopped = await createEcho(daemon, { name: "docs-pass", prompt: "Proofread the docs" });
    await createEcho(daemon, { name: "later", start: false });
    const crashed = await createEcho(daemon, {
      name: "flaky-build",
      command: [process.execPath, "-e", "process.exit(3)"],
    });
    await waitFor("docs-pass to answer", async () => (await turnsDone(daemon, stopped.id)) === 1);
    await daemon.api(`/agents/${stopped.id}/stop`, { method: "POST" });

    const page = await openPage(browser, `${daemon.url}/`);
    await row(page, busy.id).getByText("$0.0020").waitFor();
    await row(page, stopped.id).getByText("stopped").waitFor();
    await row(page, crashed.id).getByText("failed").waitFor();
    await screenshot(page, "overview");

    await page.goto(`${daemon.url}/#/agents/${busy.id}`);
    await page.locator(".conversation").getByText("echo: Now the session handling").waitFor();
    await page.locator("#prompt").fill("What is left to do?");
    await page.getByRole("button", { name: "Send" }).click();
    await page.locator(".answer-text").getByText("echo: What is left to do?").waitFor();
    await page.locator("#prompt").blur();
    await screenshot(page, "agent", { fullPage: true });

    // Wider than the screen: the page would scroll sideways.
    const overflow = () =>
      page.evaluate<number>(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
      );
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(page, "agent-phone");
    await page.goto(`${daemon.url}/#/`);
    await row(page, busy.id).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(page, "overview-phone");
    await page.goto(`${daemon.url}/#/new`);
    await page.getByLabel("Command").waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);

    /** The page's background, from 0 (black) to 1 (white). */
    const background = async () => {
      const colour = await page.evaluate<string>("getComputedStyle(document.body).backgroundColor");
      const [r, g, b] = (colour.match(/\d+/g) ?? []).map(Number) as [number, number, number];
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    };
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${daemon.url}/#/`);
    await row(page, busy.id).waitFor();
    await page.emulateMedia({ colorScheme: "light" });
    expect(await background()).toBeGreaterThan(0.8);
    await page.emulateMedia({ colorScheme: "dark" });
    expect(await background()).toBeLessThan(0.2);
    await screenshot(page, "overview-dark");
  });

  test("the compiled binary, outside the checkout, serves a dashboard that works", async () => {
    const binary = join(tempDir("agentd-dashboard-bin-"), "agentd");
    await mustBuild(binary);
    const daemon = await startDaemon({ command: [binary] });
    const page = await openPage(browser, `${daemon.url}/#/new`);
    await page.getByLabel("Command").fill(`'${binary}' echo-agent`);
    await page.getByLabel("First prompt").fill("from the binary");
    await page.getByRole("button", { name: "Create agent" }).click();
    await page.locator(".conversation").getByText("echo: from the binary").waitFor();
  });
});
