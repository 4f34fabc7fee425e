import { parse } from "shell-quote";

/**
 * A command typed as one line, split into the program and its arguments as sh would split it
 * (quotes and backslashes honoured), as `agentd spawn --command` does. The page has no
 * environment of its own to offer, so `$NAME` stays as written. What would make it more than
 * one command is refused: nothing runs it through a shell.
 */
export function commandWords(text: string): string[] {
  const words: string[] = [];
  for (const entry of parse(text, (name) => `$${name}`)) {
    if (typeof entry === "string") words.push(entry);
    else if ("pattern" in entry) words.push(entry.pattern);
    else if ("op" in entry) {
      throw new Error(
        `the command has the shell operator "${entry.op}": give one program and its arguments (quote the operator, or run a shell: sh -c '…')`,
      );
    }
    // A comment ends the line, as in sh.
    else break;
  }
  return words;
}
