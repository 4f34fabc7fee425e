import { parse } from "shell-quote";
import { UsageError } from "./args.ts";

/**
 * Words of a command line as sh would split them: quotes and backslashes are honoured, and
 * `$NAME` outside single quotes is this environment's value. What would make it more than one
 * command (`|`, `;`, `&&`, redirections) is refused: nothing runs it through a shell.
 */
export function shellWords(flag: string, text: string): string[] {
  const words: string[] = [];
  for (const entry of parse(text, (name) => process.env[name] ?? "")) {
    if (typeof entry === "string") words.push(entry);
    else if ("pattern" in entry) words.push(entry.pattern);
    else if ("op" in entry) {
      throw new UsageError(
        `--${flag} takes one program and its arguments, but has the shell operator "${entry.op}"; quote it, or run a shell: --${flag} "sh -c '…'"`,
      );
    }
    // A comment ends the line, as in sh.
    else break;
  }
  return words;
}
