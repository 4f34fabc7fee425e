import { existsSync } from "node:fs";

/** The n-th rotated file of a log: agent.log.1 is the newest. */
export function rotatedPath(path: string, n: number): string {
  return `${path}.${n}`;
}

/** The files a log is made of, oldest first: its rotated files that exist, then itself. */
export function logFiles(path: string): string[] {
  const rotated: string[] = [];
  for (let n = 1; existsSync(rotatedPath(path, n)); n++) rotated.unshift(rotatedPath(path, n));
  return [...rotated, path];
}
