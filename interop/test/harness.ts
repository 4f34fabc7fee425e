import { afterAll, afterEach, expect, setDefaultTimeout } from "bun:test";
import { type FakeLlm, startFakeLlm } from "../../test/fixtures/fake-llm.ts";
import { stopAllClis } from "../lib/cli-process.ts";

/**
 * Called at the top of each test file: a fake provider for the file; after each test every CLI
 * is stopped, and a request the fake could not answer (a start-up call nobody switched off)
 * fails the test. The timeout is long because a test drives real CLIs through several model
 * calls on a shared, slow machine (set here, not in a bunfig preload: in Bun 1.4.5 a preload's
 * setDefaultTimeout reaches only the first test file of a run).
 */
export function useInteropHarness(): FakeLlm {
  setDefaultTimeout(120_000);
  const llm = startFakeLlm();
  afterEach(async () => {
    await stopAllClis();
    const unanswered = llm.requests.filter(
      (request) => request.api === null && request.path !== "/",
    );
    llm.requests.splice(0);
    expect(unanswered.map((request) => `${request.method} ${request.path}`)).toEqual([]);
  });
  afterAll(() => llm.stop());
  return llm;
}
