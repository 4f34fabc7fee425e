import type { Scenario } from "../lib/scenario.ts";
import { daemonStart } from "./daemon-start.ts";
import { getAgent } from "./get-agent.ts";
import { idleMemory } from "./idle-memory.ts";
import { idleThousand } from "./idle-thousand.ts";
import { ingestFifty } from "./ingest-fifty.ts";
import { ingestOne } from "./ingest-one.ts";
import { ingestPersistent } from "./ingest-persistent.ts";
import { lifecyclePm2 } from "./lifecycle-pm2.ts";
import { listAgents } from "./list-agents.ts";
import { spawnOverhead } from "./spawn-overhead.ts";
import { turnRoundTrip } from "./turn-round-trip.ts";
import { version } from "./version.ts";

/** Every scenario, in the order the bench runs them. */
export const SCENARIOS: Scenario[] = [
  ingestOne,
  ingestFifty,
  ingestPersistent,
  listAgents,
  getAgent,
  version,
  daemonStart,
  turnRoundTrip,
  spawnOverhead,
  idleMemory,
  idleThousand,
  lifecyclePm2,
];
