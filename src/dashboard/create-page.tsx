import { useState } from "preact/hooks";
import { AGENT_MODES } from "../agents/status.ts";
import type { AgentView, CreateAgentInput } from "../api/schemas.ts";
import { type ApiError, asApiError } from "./api.ts";
import { ErrorNote } from "./components.tsx";
import { useDaemon } from "./daemon.ts";
import { createRequest, type NewAgentForm } from "./new-agent-form.ts";
import { hrefOf, navigate } from "./route.ts";

/** A new agent: what it runs, where it works, and its first prompt (`POST /agents`). */
export function CreatePage() {
  const { api, protocols } = useDaemon();
  const initial = protocols.find((protocol) => protocol.default) ?? protocols[0];
  const [form, setForm] = useState<NewAgentForm>({
    name: "",
    protocol: initial?.name ?? "",
    mode: "run",
    command: "",
    model: "",
    place: "own",
    cwd: "",
    repo: "",
    base: "",
    branch: "",
    prompt: "",
  });
  const [error, setError] = useState<ApiError | null>(null);
  const [badInput, setBadInput] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const field = (key: keyof NewAgentForm) => ({
    value: form[key],
    onInput: (event: { currentTarget: { value: string } }) =>
      setForm({ ...form, [key]: event.currentTarget.value }),
  });
  const protocol = protocols.find((p) => p.name === form.protocol);

  const submit = async () => {
    setError(null);
    setBadInput(null);
    let request: CreateAgentInput;
    try {
      request = createRequest(form);
    } catch (problem) {
      setBadInput(problem instanceof Error ? problem.message : String(problem));
      return;
    }
    setCreating(true);
    try {
      const agent = await api.post<AgentView>("/agents", request);
      navigate(hrefOf.agent(agent.id));
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setCreating(false);
    }
  };

  return (
    <section class="panel create" aria-labelledby="create-title">
      <h1 id="create-title">New agent</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <div class="form-grid">
          <label for="new-name">Name</label>
          <div>
            <input id="new-name" {...field("name")} placeholder="optional, e.g. fix-tests" />
            <p class="hint">
              Letters, digits, <code>.</code>, <code>_</code> and <code>-</code>.
            </p>
          </div>

          <label for="new-protocol">Protocol</label>
          <select
            id="new-protocol"
            value={form.protocol}
            onChange={(event) => setForm({ ...form, protocol: event.currentTarget.value })}
          >
            {protocols.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
                {p.default ? " (default)" : ""}
              </option>
            ))}
          </select>

          <span id="new-mode-label">Mode</span>
          <div class="choices" role="radiogroup" aria-labelledby="new-mode-label">
            {AGENT_MODES.map((mode) => (
              <label key={mode}>
                <input
                  type="radio"
                  name="mode"
                  value={mode}
                  checked={form.mode === mode}
                  onChange={() => setForm({ ...form, mode })}
                />{" "}
                {mode === "run"
                  ? "run (a child of the daemon)"
                  : "persistent (a systemd user service)"}
              </label>
            ))}
          </div>

          <label for="new-command">Command</label>
          <div>
            <input
              id="new-command"
              class="mono"
              {...field("command")}
              placeholder={protocol?.command ?? ""}
            />
            <p class="hint">
              The program and its arguments, quoted as in a shell. Empty: the protocol's program
              {protocol?.command ? (
                <>
                  , <code>{protocol.command}</code>
                </>
              ) : null}
              .
            </p>
          </div>

          <label for="new-model">Model</label>
          <input id="new-model" {...field("model")} placeholder="auto" />

          <span id="new-place-label">Works in</span>
          <div class="choices" role="radiogroup" aria-labelledby="new-place-label">
            <label>
              <input
                type="radio"
                name="place"
                checked={form.place === "own"}
                onChange={() => setForm({ ...form, place: "own" })}
              />{" "}
              a directory of its own
            </label>
            <label>
              <input
                type="radio"
                name="place"
                checked={form.place === "cwd"}
                onChange={() => setForm({ ...form, place: "cwd" })}
              />{" "}
              an existing directory (left as it is)
            </label>
            <label>
              <input
                type="radio"
                name="place"
                checked={form.place === "worktree"}
                onChange={() => setForm({ ...form, place: "worktree" })}
              />{" "}
              a new git worktree
            </label>
          </div>

          {form.place === "cwd" && (
            <>
              <label for="new-cwd">Directory</label>
              <input
                id="new-cwd"
                class="mono"
                required
                {...field("cwd")}
                placeholder="/path/to/dir"
              />
            </>
          )}
          {form.place === "worktree" && (
            <>
              <label for="new-repo">Repository</label>
              <input
                id="new-repo"
                class="mono"
                required
                {...field("repo")}
                placeholder="/path/to/repo"
              />
              <label for="new-base">Base</label>
              <input id="new-base" class="mono" {...field("base")} placeholder="HEAD" />
              <label for="new-branch">Branch</label>
              <input id="new-branch" class="mono" {...field("branch")} placeholder="agentd/<id>" />
            </>
          )}

          <label for="new-prompt">First prompt</label>
          <textarea id="new-prompt" rows={4} {...field("prompt")} placeholder="optional" />
        </div>
        {badInput && (
          <p class="error-note" role="alert">
            {badInput}
          </p>
        )}
        {error && <ErrorNote error={error} />}
        <div class="form-buttons">
          <button type="submit" disabled={creating}>
            {creating ? "Creating…" : "Create agent"}
          </button>
          <a href={hrefOf.overview}>Cancel</a>
        </div>
      </form>
    </section>
  );
}
