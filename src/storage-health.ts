/**
 * What the daemon cannot write right now — its database, an agent's log — each under its
 * path, with a description made when it is asked for (so counts in it are current). /health is
 * not ok while anything is here; each entry goes once a write to its path works again.
 */
export class StorageHealth {
  private readonly failing = new Map<string, () => string>();

  /** `path` cannot be written; true when it was fine until now. */
  fail(path: string, describe: () => string): boolean {
    const fresh = !this.failing.has(path);
    this.failing.set(path, describe);
    return fresh;
  }

  /** `path` can be written again; true when it was failing until now. */
  recover(path: string): boolean {
    return this.failing.delete(path);
  }

  isFailing(path: string): boolean {
    return this.failing.has(path);
  }

  /** One line per path that cannot be written, naming it and saying why. */
  problems(): string[] {
    return [...this.failing.values()].map((describe) => describe());
  }
}
