import { existsSync } from "node:fs";
import { basename } from "node:path";

/**
 * Without lingering, systemd stops a user's units when their last session ends: persistent
 * agents would die at logout. logind marks a lingering user with a file named after them;
 * that file is checked directly, since `loginctl` needs a running logind.
 */
export function lingerWarning(lingerFile: string | null): string | null {
  if (lingerFile === null) {
    return "cannot tell whether lingering is enabled (unknown user name): persistent agents may stop at logout; enable it with `loginctl enable-linger`";
  }
  if (existsSync(lingerFile)) return null;
  const user = basename(lingerFile);
  return `lingering is not enabled for ${user} (${lingerFile} is missing): persistent agents stop when ${user} logs out; enable it with \`loginctl enable-linger ${user}\``;
}
