import type { GcReport, WorkspaceView } from "../api/workspaces.ts";
import { UsageError } from "./args.ts";
import { clientFrom, JSON_FLAG, URL_FLAG } from "./client.ts";
import { defineCommand } from "./command.ts";
import { printJson } from "./output.ts";
import { formatTable } from "./table.ts";

export const workspacesCommand = defineCommand({
  name: "workspaces",
  summary: "list agents' workspaces with their sizes",
  synopsis: "workspaces",
  flags: { ...URL_FLAG, ...JSON_FLAG },
  async run({ flags, positionals }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const workspaces = await clientFrom(flags).json<WorkspaceView[]>("GET", "/workspaces");
    if (flags.json) printJson(workspaces);
    else process.stdout.write(workspaceTable(workspaces));
    return 0;
  },
});

export const gcCommand = defineCommand({
  name: "gc",
  summary: "remove finished agents' workspaces not used for a while, never losing work",
  synopsis: "gc [--older-than 7d] [--dry-run]",
  description:
    "Removes the managed directories and worktrees of stopped, completed, failed and lost agents\n" +
    "not used for --older-than (7d). A worktree or directory holding uncommitted files or\n" +
    "commits that are on no other branch or remote is kept, and the report says what is in it.",
  flags: {
    "older-than": { kind: "string", value: "AGE", help: "e.g. 7d, 12h, 2w, 1d12h (7d)" },
    "dry-run": { kind: "boolean", help: "report what would be removed; remove nothing" },
    ...URL_FLAG,
    ...JSON_FLAG,
  },
  async run({ flags, positionals }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const body = { older_than: flags["older-than"], dry_run: flags["dry-run"] };
    const report = await clientFrom(flags).json<GcReport>("POST", "/workspaces/gc", { body });
    if (flags.json) printJson(report);
    else process.stdout.write(gcSummary(report));
    return 0;
  },
});

function workspaceTable(workspaces: readonly WorkspaceView[]): string {
  const rows = workspaces.map((w) => [
    w.agent_id,
    w.kind,
    w.status,
    w.agent_status,
    w.size_bytes === null ? "-" : formatBytes(w.size_bytes),
    w.accessed_at,
    w.branch === null ? w.path : `${w.path} (${w.branch})`,
  ]);
  return formatTable(
    ["AGENT", "KIND", "STATUS", "AGENT STATUS", "SIZE", "LAST USED", "PATH"],
    rows,
  );
}

function gcSummary(report: GcReport): string {
  const verb = report.dry_run ? "would remove" : "removed";
  const lines = [
    ...report.removed.map(
      (r) =>
        `${verb} ${r.agent_id}: ${r.kind} ${r.path}${r.size_bytes === null ? "" : ` (${formatBytes(r.size_bytes)})`}${r.note ? `; ${r.note}` : ""}`,
    ),
    ...report.kept.map((k) => `kept ${k.agent_id}: ${k.reason}`),
  ];
  const freed = report.removed.reduce((sum, r) => sum + (r.size_bytes ?? 0), 0);
  lines.push(
    `${report.removed.length} ${verb} (${formatBytes(freed)}), ${report.kept.length} kept; unused for over ${report.older_than}`,
  );
  return `${lines.join("\n")}\n`;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1536 -> `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}
