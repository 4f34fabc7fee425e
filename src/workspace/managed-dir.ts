import { mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ConflictError } from "../errors.ts";

/**
 * `<root>/<id>`: where an agent's managed workspace lives. The id becomes one path segment, so it
 * must be one: agent ids are checked names, and this makes sure no other string gets through.
 */
export function workspacePath(root: string, agentId: string): string {
  if (agentId === "" || agentId === "." || agentId === ".." || /[/\0]/.test(agentId)) {
    throw new Error(`"${agentId}" cannot name a workspace directory`);
  }
  return join(root, agentId);
}

/** The workspace root, owner-only, made if missing. */
export function ensureWorkspaceRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
}

/** Make `<root>/<id>` (0700). An existing directory there is a conflict: it is never reused. */
export function createManagedDir(root: string, agentId: string): string {
  const path = workspacePath(root, agentId);
  ensureWorkspaceRoot(root);
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw workspaceExists(path);
    throw error;
  }
  return path;
}

export function workspaceExists(path: string): ConflictError {
  return new ConflictError(
    `the workspace directory ${path} already exists; agentd does not reuse it. Move it away or pick another name`,
  );
}

/** Delete a directory and everything in it, off the event loop; a missing one is fine. */
export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
