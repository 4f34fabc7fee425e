/** How to run this very program again: the compiled binary, or bun with the source entry point. */
export function selfCommand(): string[] {
  return isCompiled() ? [process.execPath] : [process.execPath, "--no-orphans", Bun.main];
}

export function isCompiled(): boolean {
  return import.meta.path.startsWith("/$bunfs/");
}
