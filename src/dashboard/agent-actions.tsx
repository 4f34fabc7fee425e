import type { Static } from "@sinclair/typebox";
import { useEffect, useRef, useState } from "preact/hooks";
import { hasProcess } from "../agents/status.ts";
import type { AgentView, DeleteResult } from "../api/schemas.ts";
import type { WorkAtRiskSchema } from "../api/workspaces.ts";
import { type ApiError, asApiError } from "./api.ts";
import { ErrorNote } from "./components.tsx";
import { useDaemon } from "./daemon.ts";

/** Start, stop, restart and delete, with what the daemon answers when it will not. */

type Lifecycle = "start" | "stop" | "restart";

const BUSY_LABEL: Record<Lifecycle, string> = {
  start: "Starting…",
  stop: "Stopping…",
  restart: "Restarting…",
};

export function AgentActions({
  agent,
  onAgent,
  onDeletion,
}: {
  agent: AgentView;
  onAgent: (agent: AgentView) => void;
  onDeletion: (deletion: Deletion) => void;
}) {
  const { api } = useDaemon();
  const [busy, setBusy] = useState<Lifecycle | null>(null);
  const [failure, setFailure] = useState<{ action: Lifecycle; error: ApiError } | null>(null);
  const [deleting, setDeleting] = useState(false);

  const run = async (action: Lifecycle, force = false) => {
    setBusy(action);
    setFailure(null);
    try {
      const path = `/agents/${encodeURIComponent(agent.id)}/${action}${force ? "?force=1" : ""}`;
      onAgent(await api.post<AgentView>(path));
    } catch (caught) {
      setFailure({ action, error: asApiError(caught) });
    } finally {
      setBusy(null);
    }
  };
  const live = hasProcess(agent.status);
  const label = (action: Lifecycle, text: string) => (busy === action ? BUSY_LABEL[action] : text);

  return (
    <div class="actions">
      <button type="button" disabled={busy !== null || live} onClick={() => void run("start")}>
        {label("start", "Start")}
      </button>
      <button
        type="button"
        disabled={busy !== null || !live || agent.status === "stopping"}
        onClick={() => void run("stop")}
      >
        {label("stop", "Stop")}
      </button>
      <button type="button" disabled={busy !== null} onClick={() => void run("restart")}>
        {label("restart", "Restart")}
      </button>
      <button
        type="button"
        class="danger"
        disabled={busy !== null}
        onClick={() => setDeleting(true)}
      >
        Delete…
      </button>
      {failure && (
        <ErrorNote error={failure.error}>
          {handEdited(failure.error) && failure.action !== "stop" && (
            <>
              <HandEdits error={failure.error} />
              <button type="button" onClick={() => void run(failure.action, true)}>
                {failure.action === "start" ? "Start" : "Restart"} anyway, replacing the edited
                files
              </button>
            </>
          )}
        </ErrorNote>
      )}
      {deleting && (
        <DeleteDialog agent={agent} onDeletion={onDeletion} onClose={() => setDeleting(false)} />
      )}
    </div>
  );
}

function handEdited(error: ApiError): boolean {
  return error.status === 409 && detailsField(error, "hand_edits") !== undefined;
}

function detailsField(error: ApiError, field: string): unknown {
  const details = error.details;
  return typeof details === "object" && details !== null
    ? (details as Record<string, unknown>)[field]
    : undefined;
}

function HandEdits({ error }: { error: ApiError }) {
  return (
    <details open>
      <summary>What was edited</summary>
      <pre>{JSON.stringify(detailsField(error, "hand_edits"), null, 2)}</pre>
    </details>
  );
}

type WorkAtRisk = Static<typeof WorkAtRiskSchema>;

/**
 * Where a deletion stands, for the page: while one is under way the agent vanishing is expected,
 * and once done the page says what became of the workspace.
 */
export type Deletion =
  | { kind: "none" }
  | { kind: "pending" }
  | { kind: "done"; result: DeleteResult };

type DeleteStep =
  | { kind: "confirm" }
  | { kind: "deleting"; force: boolean }
  | { kind: "refused"; error: ApiError; risks: WorkAtRisk[] | null }
  | { kind: "failed"; error: ApiError };

/**
 * Asks first; when the daemon keeps the agent for the work it would lose, says what, and offers
 * to delete it anyway.
 */
function DeleteDialog({
  agent,
  onDeletion,
  onClose,
}: {
  agent: AgentView;
  onDeletion: (deletion: Deletion) => void;
  onClose: () => void;
}) {
  const { api } = useDaemon();
  const dialog = useRef<HTMLDialogElement>(null);
  const [step, setStep] = useState<DeleteStep>({ kind: "confirm" });
  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const remove = async (force: boolean) => {
    setStep({ kind: "deleting", force });
    onDeletion({ kind: "pending" });
    try {
      const path = `/agents/${encodeURIComponent(agent.id)}${force ? "?force=1" : ""}`;
      const result = await api.delete<DeleteResult>(path);
      dialog.current?.close();
      onDeletion({ kind: "done", result });
    } catch (caught) {
      onDeletion({ kind: "none" });
      const error = asApiError(caught);
      const risks = detailsField(error, "work_at_risk");
      setStep(
        error.status === 409
          ? { kind: "refused", error, risks: Array.isArray(risks) ? (risks as WorkAtRisk[]) : null }
          : { kind: "failed", error },
      );
    }
  };
  const close = () => {
    dialog.current?.close();
    onClose();
  };
  const workspace = agent.workspace;

  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby="delete-title"
      onCancel={(event) => {
        event.preventDefault();
        if (step.kind !== "deleting") close();
      }}
    >
      <h2 id="delete-title">Delete {agent.name}?</h2>
      {step.kind === "confirm" && (
        <>
          <p>
            This stops the agent and removes it with its turns, messages, events and logs
            {workspace && workspace.kind !== "external" ? (
              <>
                , and its workspace <code>{workspace.path}</code> ({workspace.kind})
              </>
            ) : (
              <>; its directory {workspace && <code>{workspace.path}</code>} is left alone</>
            )}
            . agentd refuses if the workspace holds work that would be lost.
          </p>
          <div class="dialog-buttons">
            <button type="button" onClick={close}>
              Keep it
            </button>
            <button type="button" class="danger" onClick={() => void remove(false)}>
              Delete
            </button>
          </div>
        </>
      )}
      {step.kind === "deleting" && (
        <p role="status">{step.force ? "Deleting, work and all…" : "Deleting…"}</p>
      )}
      {step.kind === "refused" && (
        <>
          <ErrorNote error={step.error}>
            {step.risks && <WorkAtRiskList risks={step.risks} />}
          </ErrorNote>
          <div class="dialog-buttons">
            <button type="button" onClick={close}>
              Keep it
            </button>
            <button type="button" class="danger" onClick={() => void remove(true)}>
              Delete anyway, losing this work
            </button>
          </div>
        </>
      )}
      {step.kind === "failed" && (
        <>
          <ErrorNote error={step.error} />
          <div class="dialog-buttons">
            <button type="button" onClick={close}>
              Close
            </button>
            <button type="button" onClick={() => void remove(false)}>
              Try again
            </button>
          </div>
        </>
      )}
    </dialog>
  );
}

export function describeRemoval(removal: NonNullable<DeleteResult["workspace"]>): string {
  const what = `Its ${removal.kind} ${removal.path} was ${removal.removed ? "removed" : "kept"}`;
  return removal.note ? `${what}: ${removal.note}.` : `${what}.`;
}

const FILES_LISTED = 20;

function WorkAtRiskList({ risks }: { risks: WorkAtRisk[] }) {
  return (
    <ul class="work-at-risk">
      {risks.map((risk) => (
        <li key={risk.path}>
          <code>{risk.path}</code>
          {risk.uncommitted.length > 0 && (
            <>
              <p>Not committed:</p>
              <ul>
                {risk.uncommitted.slice(0, FILES_LISTED).map((file) => (
                  <li key={file}>
                    <code>{file}</code>
                  </li>
                ))}
                {risk.uncommitted.length > FILES_LISTED && (
                  <li>and {risk.uncommitted.length - FILES_LISTED} more</li>
                )}
              </ul>
            </>
          )}
          {risk.unmerged_commits.length > 0 && (
            <>
              <p>Commits on no other branch, tag or remote:</p>
              <ul>
                {risk.unmerged_commits.slice(0, FILES_LISTED).map((commit) => (
                  <li key={commit.sha}>
                    <code>{commit.sha.slice(0, 10)}</code> {commit.subject}
                  </li>
                ))}
                {risk.unmerged_commits.length > FILES_LISTED && (
                  <li>and {risk.unmerged_commits.length - FILES_LISTED} more</li>
                )}
              </ul>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}
