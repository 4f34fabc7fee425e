/**
 * git's own lock files make a second worktree command in the same repository fail while one
 * runs ("could not lock config file"), so agentd runs its changes to one repository in turn.
 */
const tails = new Map<string, Promise<void>>();

/** Run `change` once every change to `repository` queued before it has ended. */
export async function inTurn<T>(repository: string, change: () => Promise<T>): Promise<T> {
  const previous = tails.get(repository) ?? Promise.resolve();
  let done = () => {};
  const ended = new Promise<void>((resolve) => {
    done = resolve;
  });
  const tail = previous.then(() => ended);
  tails.set(repository, tail);
  await previous;
  try {
    return await change();
  } finally {
    done();
    if (tails.get(repository) === tail) tails.delete(repository);
  }
}
