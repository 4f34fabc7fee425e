import { errorMessage } from "../errors.ts";
import type { Prompt, SessionHost } from "./session.ts";

/**
 * The prompts a session holds back while its CLI works on a turn. The CLIs agentd drives fold
 * a prompt sent mid-turn into the running turn, or refuse it, so each gets one at a time: the
 * next goes out when the last turn has ended.
 */
export class HeldPrompts {
  private readonly held: Prompt[] = [];

  constructor(
    private readonly host: SessionHost,
    /** The CLI as the agent's events name it, e.g. "Claude Code". */
    private readonly cli: string,
  ) {}

  hold(prompt: Prompt): void {
    this.held.push(prompt);
  }

  /** A prompt no longer held (it could not even be asked about). */
  drop(prompt: Prompt): void {
    const index = this.held.indexOf(prompt);
    if (index !== -1) this.held.splice(index, 1);
  }

  /** The next prompt to send, no longer held; undefined when none waits. */
  next(): Prompt | undefined {
    return this.held.shift();
  }

  /**
   * Cancel a held prompt: the CLI never sees it, and its turn ends cancelled at once. False
   * when no prompt is held under that turn id.
   */
  withdraw(turnId: string): boolean {
    const index = this.held.findIndex((prompt) => prompt.turn_id === turnId);
    if (index === -1) return false;
    this.held.splice(index, 1);
    const reason = `cancelled before ${this.cli} was given the prompt`;
    this.host.emit([{ type: "turn.cancelled", turn_id: turnId, reason }]);
    return true;
  }

  /**
   * Send the next held prompt with `write`. One that cannot be written fails its turn, and the
   * one after it goes instead.
   */
  sendNext(write: (prompt: Prompt) => Promise<void>): void {
    const next = this.next();
    if (!next) return;
    write(next).catch((error) => {
      this.host.emit([
        {
          type: "turn.failed",
          turn_id: next.turn_id,
          error: `prompt not delivered to ${this.cli}: ${errorMessage(error)}`,
        },
      ]);
      this.sendNext(write);
    });
  }
}
