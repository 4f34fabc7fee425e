import { describe, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { tempDir } from "./tmp.ts";

/**
 * A real browser for the dashboard's tests: Debian's Chromium, driven by playwright-core, never
 * a downloaded one. .ci/run installs it; elsewhere, without it, the tests are declared and
 * reported as skipped with the reason (AGENTD_REQUIRE_BROWSER=1 makes that a failure).
 */

export const CHROMIUM = "/usr/bin/chromium";

const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** How long a page may take to show what a test waits for, on a loaded machine. */
export const PAGE_TIMEOUT_MS = 20_000;

const missing = existsSync(CHROMIUM)
  ? null
  : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;

/**
 * A describe() whose tests run only where Chromium is installed. Without it, each test is still
 * declared and shows as skipped with the reason, or fails when AGENTD_REQUIRE_BROWSER=1.
 */
export function describeWithBrowser(name: string, body: () => void): void {
  if (missing === null) describe(name, body);
  else if (process.env.AGENTD_REQUIRE_BROWSER === "1") {
    describe(name, () => {
      test("needs Chromium", () => {
        throw new Error(`AGENTD_REQUIRE_BROWSER=1 but ${missing}`);
      });
    });
  } else describe.skip(`${name} [skipped: ${missing}]`, body);
}

/** Headless Chromium with a fresh profile: no cookies, storage or cache from anything before. */
export async function launchBrowser(): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(tempDir("agentd-chromium-"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 800 },
  });
  context.setDefaultTimeout(PAGE_TIMEOUT_MS);
  return context;
}

/** What went wrong in the pages opened since the last check. */
let troubles: string[] = [];

/**
 * A new tab, watched: its scripts throwing, or the browser refusing something the page tried
 * (its Content-Security-Policy), fails the test at `expectPagesTroubleFree()`. Requests the
 * daemon refused are console errors too, and some tests expect those, so they are not counted.
 */
export async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  page.on("console", (message) => {
    const text = message.text();
    if (message.type() === "error" && /Content Security Policy|Refused to/.test(text)) {
      troubles.push(`the browser refused: ${text}`);
    }
  });
  page.on("pageerror", (error) => troubles.push(`a script threw: ${error.stack ?? error}`));
  await page.goto(url);
  return page;
}

/** For afterEach: fails the test that just ran if any page it opened had trouble. */
export function expectPagesTroubleFree(): void {
  const seen = troubles;
  troubles = [];
  if (seen.length > 0) throw new Error(seen.join("\n"));
}

/**
 * Where screenshots go: AGENTD_SCREENSHOTS (docs/screenshots for the README's, relative to the
 * repository), else a scratch directory.
 */
const screenshotDir = (() => {
  const chosen = process.env.AGENTD_SCREENSHOTS;
  const dir = chosen ? resolve(import.meta.dir, "../..", chosen) : tempDir("agentd-shots-");
  mkdirSync(dir, { recursive: true });
  return dir;
})();

/** The page as it is now (the viewport, or the whole page), saved as NAME.png. */
export async function screenshot(
  page: Page,
  name: string,
  { fullPage = false } = {},
): Promise<string> {
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage, animations: "disabled" });
  return path;
}
