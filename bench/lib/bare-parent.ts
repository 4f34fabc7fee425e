import { LineChild } from "./line-child.ts";
import { baselineProgram, IDLE_AGENT } from "./paths.ts";
import { rssKb } from "./proc.ts";
import type { BenchSession } from "./session.ts";

/** The argv agentd starts the idle agent with: the command and the omni flags it adds. */
export const IDLE_AGENT_ARGV = [...IDLE_AGENT, "--provider", "auto", "--model", "auto", "--json"];

/** The bare-parent baseline program, holding idle agents as a supervisor would. */
export class BareParent {
  private constructor(private readonly child: LineChild) {}

  static async start(session: BenchSession): Promise<BareParent> {
    const { child } = await LineChild.start(
      session,
      "the bare-parent baseline",
      baselineProgram("bare-parent.ts"),
    );
    return new BareParent(child);
  }

  /** Start `count` idle agents; the time it took, in ms. */
  async spawn(count: number): Promise<number> {
    return (await this.child.request<{ ms: number }>({ spawn: count, argv: IDLE_AGENT_ARGV })).ms;
  }

  /** Stop them all and wait for them. */
  async release(): Promise<void> {
    await this.child.request({ release: true });
  }

  rssKb(): number {
    return rssKb(this.child.pid);
  }

  close(): Promise<void> {
    return this.child.close();
  }
}
