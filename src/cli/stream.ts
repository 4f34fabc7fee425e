import { once } from "node:events";
import { describeHttpFailure } from "./client.ts";
import { CommandFailure } from "./command.ts";

/** Reading a streamed answer (a followed log, an event stream) and printing it as it arrives. */

/** The body's bytes as they arrive; a connection lost midway is a failure, not a crash. */
export async function* bodyChunks(response: Response): AsyncGenerator<Uint8Array> {
  if (response.body === null) return;
  try {
    for await (const chunk of response.body) yield chunk;
  } catch (error) {
    throw new CommandFailure(`the stream from the daemon broke off: ${describeHttpFailure(error)}`);
  }
}

/** Copy the body to stdout as it arrives, until the daemon ends it. */
export async function copyToStdout(response: Response): Promise<void> {
  for await (const chunk of bodyChunks(response)) await writeStdout(chunk);
}

/**
 * Write to stdout, waiting while its reader (a pipe, a pager) is behind, so memory stays flat.
 * A reader that has gone (`agentd events | head`) leaves nothing to do: exit quietly.
 */
export async function writeStdout(data: string | Uint8Array): Promise<void> {
  try {
    if (!process.stdout.write(data)) await once(process.stdout, "drain");
  } catch (error) {
    if (isBrokenPipe(error)) process.exit(0);
    throw error;
  }
}

function isBrokenPipe(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "EPIPE";
}
