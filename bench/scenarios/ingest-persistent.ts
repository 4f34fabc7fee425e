import { launchUserManager, SystemdUnavailable } from "../../test/helpers/systemd.ts";
import { ingestSides } from "../lib/ingest.ts";
import { type Scenario, Skip } from "../lib/scenario.ts";

/**
 * A persistent agent (a systemd user unit) floods; agentd follows its events file. Needs a
 * private systemd user manager, as the tests do; without one the scenario is skipped.
 */
export const ingestPersistent: Scenario = {
  id: "ingest-persistent",
  title: "ingest 100k omni lines from a persistent agent",
  baseline: "file follower + split + JSON.parse",
  metric: { unit: "lines/s", better: "higher" },
  target: { compare: "ratio", bound: "min", value: 0.5 },
  async prepare(context) {
    const manager = await launchUserManager().catch((error) => {
      if (error instanceof SystemdUnavailable)
        throw new Skip(`no systemd user manager: ${error.message}`);
      throw error;
    });
    const forget = context.session.onClose(() => manager.stop());
    const stopManager = async () => {
      forget();
      await manager.stop();
    };
    try {
      return await ingestSides(
        context,
        context.smoke
          ? { agents: 1, linesPerAgent: 2_000, retention: 500 }
          : { agents: 1, linesPerAgent: 100_000, retention: 10_000 },
        { mode: "persistent", env: manager.env },
        stopManager,
      );
    } catch (error) {
      await stopManager();
      throw error;
    }
  },
};
