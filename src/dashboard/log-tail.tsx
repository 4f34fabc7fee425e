import { useEffect, useRef, useState } from "preact/hooks";
import { type ApiError, asApiError } from "./api.ts";
import { ErrorNote } from "./components.tsx";
import { useDaemon } from "./daemon.ts";
import { useStickToBottom } from "./hooks.ts";

/** Lines of the log shown when the page opens; what follows is added as it is written. */
const TAIL_LINES = 200;
/** The page keeps this much of the log's end; `agentd logs` has the rest. */
const KEPT_CHARS = 256 * 1024;

type Following = "following" | "ended" | "failed";

/**
 * The end of the agent's log, followed (`GET /agents/:id/logs?follow=1`) until the agent's
 * process ends; a new start of the agent follows its log again.
 */
export function LogTail({ agentId, startedAt }: { agentId: string; startedAt: string | null }) {
  const { api } = useDaemon();
  const [text, setText] = useState("");
  const [state, setState] = useState<Following>("following");
  const [error, setError] = useState<ApiError | null>(null);
  const box = useRef<HTMLPreElement>(null);
  useStickToBottom(box, text);

  // startedAt is not read inside: a new start of the agent is a reason to follow its log again.
  useEffect(() => {
    const abort = new AbortController();
    const follow = async () => {
      setState("following");
      setError(null);
      const path = `/agents/${encodeURIComponent(agentId)}/logs?tail=${TAIL_LINES}&follow=1`;
      const response = await api.open(path, {}, abort.signal);
      const reader = response.body?.getReader();
      if (!reader) return;
      const decoder = new TextDecoder();
      let first = true;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const chunk = decoder.decode(value, { stream: true });
        setText((current) => ((first ? "" : current) + chunk).slice(-KEPT_CHARS));
        first = false;
      }
      if (first) setText("");
      setState("ended");
    };
    follow().catch((caught) => {
      if (abort.signal.aborted) return;
      setError(asApiError(caught));
      setState("failed");
    });
    return () => abort.abort();
  }, [api, agentId, startedAt]);

  return (
    <>
      {error && <ErrorNote error={error} />}
      <pre class="log" ref={box}>
        {text === "" ? <span class="muted">(the log is empty)</span> : text}
      </pre>
      <p class="muted small" role="status">
        {state === "following"
          ? "Following the log as it grows."
          : state === "ended"
            ? "The agent is not running: the log is complete until it starts again."
            : "The log could not be followed."}
      </p>
    </>
  );
}
