/** `--json` output: the server's JSON, indented for people who read it before piping it. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
