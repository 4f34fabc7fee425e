import { Agentd } from "./agentd.ts";
import { createAgent } from "./agents.ts";
import { BareParent } from "./bare-parent.ts";
import { IDLE_AGENT } from "./paths.ts";
import type { BenchContext, Check, Sides } from "./scenario.ts";

interface Footprint {
  before: number;
  after: number;
}

/**
 * The parent's memory for each idle agent it holds, in KiB: its RSS before and after starting
 * `count` idle shell agents, on a fresh agentd daemon and a fresh bare Bun parent each time.
 */
export async function idleSides(context: BenchContext, count: number): Promise<Sides> {
  const last: { agentd?: Footprint; baseline?: Footprint } = {};
  /** agentd's KiB per agent, and how many of its agents were idle at the end. */
  const agentdRun = async (): Promise<{ kbPerAgent: number; idle: number }> => {
    const daemon = await Agentd.start(context.session, context.agentd);
    try {
      await daemon.api("/health");
      const before = daemon.rssKb();
      for (let i = 0; i < count; i++) {
        await createAgent(daemon, { name: `idle${i}`, command: IDLE_AGENT });
      }
      const after = daemon.rssKb();
      const health = await daemon.api<{ agents: Record<string, number> }>("/health");
      last.agentd = { before, after };
      return { kbPerAgent: (after - before) / count, idle: health.agents.idle ?? 0 };
    } finally {
      await daemon.stop();
    }
  };
  return {
    agentd: async () => (await agentdRun()).kbPerAgent,
    async baseline() {
      const parent = await BareParent.start(context.session);
      try {
        const before = parent.rssKb();
        await parent.spawn(count);
        const after = parent.rssKb();
        last.baseline = { before, after };
        return (after - before) / count;
      } finally {
        await parent.close();
      }
    },
    async check(): Promise<Check[]> {
      const { idle } = await agentdRun();
      return [
        { what: `${idle} of ${count} agents idle at once on one daemon`, ok: idle === count },
      ];
    },
    notes: () => [
      `${count} idle agents; last RSS: agentd ${mib(last.agentd)}, bare parent ${mib(last.baseline)}`,
    ],
    close: async () => {},
  };
}

function mib(footprint: Footprint | undefined): string {
  if (!footprint) return "not measured";
  const format = (kb: number) => `${(kb / 1024).toFixed(1)} MiB`;
  return `${format(footprint.before)} → ${format(footprint.after)}`;
}
