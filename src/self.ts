/** How to run this very program again: the compiled binary, or bun with the source entry point. */
export function selfCommand(): string[] {
  return isCompiled() ? [process.execPath] : [process.execPath, "--no-orphans", Bun.main];
}

export function isCompiled(): boolean {
  // The compiled binary's entry point lives in its embedded file system. (import.meta.path is
  // no help: in the binary's CommonJS bytecode it names the source file at build time.)
  return Bun.main.startsWith("/$bunfs/");
}
