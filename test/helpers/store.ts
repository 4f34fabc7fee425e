import type { NewAgent } from "../../src/store/agents.ts";

/** A run-mode agent row for tests that work on the store directly. */
export const sampleAgent = (id: string): NewAgent => ({
  id,
  name: "sample",
  mode: "run",
  protocol: "omni",
  status: "pending",
  command: ["/bin/agent", "--x"],
  provider: "anthropic",
  model: "m1",
  cwd: "/tmp",
  thinking: null,
  extra_args: ["a b", "*"],
  env: { K: "v" },
  webhook: null,
  turn_envelope: true,
  permissions: "ask-denied",
  prompt: "hello",
  restart: "no",
  turn_timeout_s: null,
  turn_idle_timeout_s: null,
});
