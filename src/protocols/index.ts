import { acp } from "./acp/driver.ts";
import { claude } from "./claude.ts";
import { codex } from "./codex/index.ts";
import { omni } from "./omni.ts";
import { pi } from "./pi.ts";
import type { ProtocolDriver } from "./session.ts";

/** The protocols agentd speaks, by name; tests add their own fixtures to a copy. */
export type ProtocolRegistry = ReadonlyMap<string, ProtocolDriver>;

export function builtinProtocols(): Map<string, ProtocolDriver> {
  return new Map([omni, claude, codex, pi, acp].map((driver) => [driver.name, driver]));
}
