import { Agentd } from "./agentd.ts";
import { createAgent } from "./agents.ts";
import { BareParent } from "./bare-parent.ts";
import { IDLE_AGENT } from "./paths.ts";
import type { BenchContext, Check, Sides } from "./scenario.ts";

/** RSS in KiB with no agents, with the first half of them, and with all. */
interface Footprint {
  empty: number;
  half: number;
  all: number;
}

/**
 * The parent's memory for each idle agent it holds, in KiB: what its RSS grows by while it starts
 * the second half of `count` idle shell agents, on a fresh agentd daemon and a fresh bare Bun
 * parent each time. The first half is the warm-up: either parent's first agents also pay for
 * what it does once (code compiled and loaded on first use, its allocator's and SQLite's caches
 * filling), which is not what each agent costs.
 */
export async function idleSides(context: BenchContext, count: number): Promise<Sides> {
  const half = Math.floor(count / 2);
  const last: { agentd?: Footprint; baseline?: Footprint } = {};
  const perAgent = (footprint: Footprint) => (footprint.all - footprint.half) / (count - half);
  /** agentd's KiB per agent, and how many of its agents were idle at the end. */
  const agentdRun = async (): Promise<{ kbPerAgent: number; idle: number }> => {
    const daemon = await Agentd.start(context.session, context.agentd);
    try {
      await daemon.api("/health");
      const empty = daemon.rssKb();
      const create = async (from: number, to: number) => {
        for (let i = from; i < to; i++) {
          await createAgent(daemon, { name: `idle${i}`, command: IDLE_AGENT });
        }
        return daemon.rssKb();
      };
      const footprint = { empty, half: await create(0, half), all: await create(half, count) };
      const health = await daemon.api<{ agents: Record<string, number> }>("/health");
      last.agentd = footprint;
      return { kbPerAgent: perAgent(footprint), idle: health.agents.idle ?? 0 };
    } finally {
      await daemon.stop();
    }
  };
  return {
    agentd: async () => (await agentdRun()).kbPerAgent,
    async baseline() {
      const parent = await BareParent.start(context.session);
      try {
        const empty = parent.rssKb();
        await parent.spawn(half);
        const halfway = parent.rssKb();
        await parent.spawn(count - half);
        const footprint = { empty, half: halfway, all: parent.rssKb() };
        last.baseline = footprint;
        return perAgent(footprint);
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
      `${count} idle agents, memory per agent measured over the second ${count - half}; last RSS with 0 → ${half} → ${count} agents: agentd ${mib(last.agentd)}, bare parent ${mib(last.baseline)}`,
    ],
    close: async () => {},
  };
}

function mib(footprint: Footprint | undefined): string {
  if (!footprint) return "not measured";
  const format = (kb: number) => `${(kb / 1024).toFixed(1)} MiB`;
  return [footprint.empty, footprint.half, footprint.all].map(format).join(" → ");
}
