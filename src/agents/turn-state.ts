import type { OpenTurn, TurnCounts } from "../store/turns.ts";
import type { TurnStatus } from "./status.ts";

/**
 * What agentd keeps in memory about one agent's turns, as the store has them: the turns still
 * open (id and status), oldest first, how many turns it has of each status, and the position of
 * its newest. Changed only beside the writes that change the store (see AgentTurns, which keeps
 * it true).
 */
export class TurnState {
  constructor(
    private readonly openTurns: OpenTurn[],
    private readonly counts: TurnCounts,
    private newest: number,
  ) {}

  /** The position of the next turn. */
  get nextPosition(): number {
    return this.newest + 1;
  }

  /** Oldest first. */
  get open(): readonly OpenTurn[] {
    return this.openTurns;
  }

  /** A copy: the caller's to keep. */
  countsByStatus(): TurnCounts {
    return { ...this.counts };
  }

  find(turnId: string): OpenTurn | undefined {
    return this.openTurns.find((turn) => turn.id === turnId);
  }

  opened(turnId: string): void {
    this.openTurns.push({ id: turnId, status: "queued" });
    this.counts.queued++;
    this.newest++;
  }

  started(turn: OpenTurn): void {
    this.move(turn.status, "running");
    turn.status = "running";
  }

  ended(turn: OpenTurn, status: TurnStatus): void {
    this.openTurns.splice(this.openTurns.indexOf(turn), 1);
    this.move(turn.status, status);
  }

  /** Every open turn ended with `status`; returns them. */
  endedAll(status: TurnStatus): OpenTurn[] {
    const ended = this.openTurns.splice(0);
    for (const turn of ended) this.move(turn.status, status);
    return ended;
  }

  private move(from: TurnStatus, to: TurnStatus): void {
    this.counts[from]--;
    this.counts[to]++;
  }
}
