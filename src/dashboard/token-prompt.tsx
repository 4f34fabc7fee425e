import { useState } from "preact/hooks";
import type { ApiError } from "./api.ts";

/** The daemon wants a token: asked for once, kept for this tab only. */
export function TokenPrompt({
  refused,
  onToken,
}: {
  /** Why the last token did not do, when one was given. */
  refused: ApiError | null;
  onToken: (token: string) => void;
}) {
  const [token, setToken] = useState("");
  return (
    <section class="panel narrow" aria-labelledby="token-title">
      <h1 id="token-title">This daemon needs its token</h1>
      <p>
        agentd was started with a token (<code>--token</code>, <code>--token-file</code> or{" "}
        <code>AGENTD_TOKEN</code>). Give it here: the page keeps it for this tab only, and sends it
        with each request.
      </p>
      {refused && (
        <div class="error-note" role="alert">
          <p>
            <strong>The daemon refused this token:</strong>{" "}
            <span class="error-message">{refused.message}</span>
          </p>
        </div>
      )}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const given = token.trim();
          if (given !== "") onToken(given);
        }}
      >
        <label for="token">API token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          required
          autofocus
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        <button type="submit">Use this token</button>
      </form>
    </section>
  );
}
