/** A small, strict argv parser: unknown flags are errors, never silently ignored. */
export type FlagKind = "string" | "boolean" | "list";

export interface FlagSpec {
  kind: FlagKind;
  help: string;
  /** Shown in usage after the flag name, e.g. `--port PORT`. */
  value?: string;
  short?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;

export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]?: S[K]["kind"] extends "boolean"
    ? boolean
    : S[K]["kind"] extends "list"
      ? string[]
      : string;
};

export interface ParsedArgs<S extends FlagSpecs> {
  flags: FlagValues<S>;
  positionals: string[];
  /** Everything after a bare `--`. */
  rest: string[];
  help: boolean;
}

export class UsageError extends Error {}

export function parseArgs<S extends FlagSpecs>(argv: readonly string[], specs: S): ParsedArgs<S> {
  const flags: Record<string, string | boolean | string[]> = {};
  const positionals: string[] = [];
  let help = false;
  const byShort = new Map(
    Object.entries(specs)
      .filter(([, spec]) => spec.short)
      .map(([name, spec]) => [spec.short as string, name]),
  );

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      return { flags: flags as FlagValues<S>, positionals, rest: argv.slice(i + 1), help };
    }
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const rawName = arg.startsWith("--")
      ? arg.slice(2, eq === -1 ? undefined : eq)
      : (byShort.get(arg.slice(1)) ?? arg);
    const spec = specs[rawName];
    if (!spec) throw new UsageError(`unknown flag: ${eq === -1 ? arg : arg.slice(0, eq)}`);
    if (spec.kind === "boolean") {
      if (eq !== -1) throw new UsageError(`--${rawName} takes no value`);
      flags[rawName] = true;
      continue;
    }
    let value: string;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`--${rawName} needs a value`);
      value = next;
      i++;
    }
    if (spec.kind === "list") {
      const list = (flags[rawName] as string[] | undefined) ?? [];
      list.push(value);
      flags[rawName] = list;
    } else {
      flags[rawName] = value;
    }
  }
  return { flags: flags as FlagValues<S>, positionals, rest: [], help };
}

/** A flag value that must be a whole number, such as a count or milliseconds. */
export function wholeNumber(flag: string, value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number)) {
    throw new UsageError(`--${flag} must be a whole number, got "${value}"`);
  }
  return number;
}

/** A flag value in seconds, fractions allowed (`0.5`), as whole milliseconds. */
export function secondsAsMs(flag: string, value: string): number {
  const ms = Math.round(Number(value) * 1000);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(value) || !Number.isSafeInteger(ms)) {
    throw new UsageError(`--${flag} must be a number of seconds, got "${value}"`);
  }
  return ms;
}

export function formatFlags(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "";
    const value = spec.kind === "boolean" ? "" : ` ${spec.value ?? "VALUE"}`;
    return [
      `  ${short}--${name}${value}`,
      spec.help + (spec.kind === "list" ? " (repeatable)" : ""),
    ];
  });
  const width = Math.max(0, ...rows.map(([left]) => (left as string).length));
  return rows.map(([left, right]) => `${(left as string).padEnd(width)}  ${right}`).join("\n");
}
