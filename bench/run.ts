/**
 * `bun run bench`: agentd measured black-box (HTTP API, CLI, binary) against baselines in the
 * same run, and the results written to bench/results.json and printed as a table.
 *
 *   --smoke          one repetition at small sizes (CI: shows the bench still works)
 *   --only ID,…      only these scenarios
 *   --binary PATH    measure this agentd binary instead of building one from the source
 *   --profile DIR    run agentd from the source under bun's CPU profiler instead: each agentd
 *                    process writes a .cpuprofile and a .md summary into DIR when it exits
 *                    (the numbers are then not comparable; use with --only)
 *   --out PATH       where to write the results (bench/results.json; bench/results-smoke.json
 *                    with --smoke; DIR/results.json with --profile)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildAgentd } from "./lib/compile.ts";
import { describeMachine, formatMachine, type Machine } from "./lib/machine.ts";
import { BENCH_DIR, REPO_ROOT } from "./lib/paths.ts";
import { type BenchContext, measure, type Scenario, type ScenarioResult } from "./lib/scenario.ts";
import { BenchSession } from "./lib/session.ts";
import { resultsNotes, resultsTable } from "./lib/table.ts";
import { SCENARIOS } from "./scenarios/index.ts";

const { values: options } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    smoke: { type: "boolean", default: false },
    only: { type: "string" },
    binary: { type: "string" },
    profile: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (options.help) {
  console.log(
    "usage: bun run bench [--smoke] [--only ID,…] [--binary PATH | --profile DIR] [--out PATH]\nscenarios:",
  );
  for (const scenario of SCENARIOS) console.log(`  ${scenario.id.padEnd(20)} ${scenario.title}`);
  process.exit(0);
}

const selected = selectScenarios(options.only);
const session = new BenchSession();
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    // `bun run` passes a Ctrl-C on to the process group it already reached: say it once.
    if (interrupted) return;
    interrupted = true;
    console.error(`\nbench: ${signal}: stopping everything it started`);
    void session.close().finally(() => process.exit(130));
  });
}

const started = performance.now();
const results: ScenarioResult[] = [];
try {
  const context: BenchContext = { session, agentd: await agentdCommand(), smoke: options.smoke };
  const machine = describeMachine(context.agentd);
  progress(`machine: ${formatMachine(machine)}`);
  for (const scenario of selected) results.push(await measureWithProgress(scenario, context));
  report(results, machine, (performance.now() - started) / 1000);
} finally {
  await session.close();
}
if (results.some((result) => result.status === "failed")) process.exit(1);

async function measureWithProgress(
  scenario: Scenario,
  context: BenchContext,
): Promise<ScenarioResult> {
  const start = performance.now();
  progress(`${scenario.id}: ${scenario.title} …`);
  const result = await measure(scenario, context);
  const outcome = result.status === "measured" ? "done" : `${result.status}: ${result.reason}`;
  progress(`${scenario.id}: ${outcome} (${((performance.now() - start) / 1000).toFixed(1)} s)`);
  return result;
}

/** Write the results file and print the table, its notes, the machine and the run time. */
function report(results: ScenarioResult[], machine: Machine, seconds: number): void {
  const out = resolve(options.out ?? defaultOut());
  const file = {
    date: new Date().toISOString(),
    mode: options.smoke ? "smoke" : "full",
    duration_s: Math.round(seconds),
    machine,
    scenarios: results,
  };
  writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
  console.log(`\n${resultsTable(results)}\n`);
  const notes = resultsNotes(results);
  if (notes) console.log(`${notes}\n`);
  console.log(`machine: ${formatMachine(machine)}`);
  console.log(`${results.length} scenarios in ${seconds.toFixed(0)} s; results in ${out}`);
}

function selectScenarios(only: string | undefined) {
  if (only === undefined) return SCENARIOS;
  const ids = only.split(",").map((id) => id.trim());
  const unknown = ids.filter((id) => !SCENARIOS.some((scenario) => scenario.id === id));
  if (unknown.length > 0) {
    console.error(
      `bench: no scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.id).join(", ")}`,
    );
    process.exit(2);
  }
  return SCENARIOS.filter((scenario) => ids.includes(scenario.id));
}

async function agentdCommand(): Promise<string[]> {
  if (options.binary !== undefined && options.profile !== undefined) {
    console.error("bench: --binary and --profile exclude each other: a profile is of the source");
    process.exit(2);
  }
  if (options.profile !== undefined) {
    const dir = resolve(options.profile);
    mkdirSync(dir, { recursive: true });
    progress(`profiling agentd from the source into ${dir}`);
    return [
      process.execPath,
      "--no-orphans",
      "--cpu-prof",
      "--cpu-prof-md",
      `--cpu-prof-dir=${dir}`,
      join(REPO_ROOT, "src/main.ts"),
    ];
  }
  if (options.binary !== undefined) return [resolve(options.binary)];
  const outfile = join(session.dir("build"), "agentd");
  progress("building agentd from the source …");
  await buildAgentd(outfile);
  return [outfile];
}

function defaultOut(): string {
  if (options.profile !== undefined) return join(resolve(options.profile), "results.json");
  return join(BENCH_DIR, options.smoke ? "results-smoke.json" : "results.json");
}

function progress(message: string): void {
  console.error(`bench: ${message}`);
}
