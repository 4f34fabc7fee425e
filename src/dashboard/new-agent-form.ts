import type { AgentMode } from "../agents/status.ts";
import type { CreateAgentInput } from "../api/schemas.ts";
import { commandWords } from "./command-line.ts";

/** Where the new agent works: a directory agentd makes, one that exists, or a git worktree. */
export type Place = "own" | "cwd" | "worktree";

/** The form as typed: every field a string, empty when left alone. */
export interface NewAgentForm {
  name: string;
  protocol: string;
  mode: AgentMode;
  command: string;
  model: string;
  place: Place;
  cwd: string;
  repo: string;
  base: string;
  branch: string;
  prompt: string;
}

/** The request the form asks for; fields left empty are left to the daemon's defaults. */
export function createRequest(form: NewAgentForm): CreateAgentInput {
  const request: CreateAgentInput = { protocol: form.protocol, mode: form.mode };
  const given = (text: string) => (text.trim() === "" ? undefined : text.trim());
  const name = given(form.name);
  if (name !== undefined) request.name = name;
  if (form.command.trim() !== "") request.command = commandWords(form.command);
  const model = given(form.model);
  if (model !== undefined) request.model = model;
  if (form.place === "cwd") request.cwd = form.cwd.trim();
  if (form.place === "worktree") {
    request.worktree = { repo: form.repo.trim() };
    const base = given(form.base);
    const branch = given(form.branch);
    if (base !== undefined) request.worktree.base = base;
    if (branch !== undefined) request.worktree.branch = branch;
  }
  if (form.prompt.trim() !== "") request.prompt = form.prompt;
  return request;
}
