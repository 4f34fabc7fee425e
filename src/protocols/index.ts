import type { ProtocolView } from "../api/protocols.ts";
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

/** Each protocol as GET /protocols shows it: the program it runs by default, what it can do. */
export function describeProtocols(
  protocols: ProtocolRegistry,
  defaultProtocol: string,
  defaultCommand: string,
): ProtocolView[] {
  return [...protocols.values()].map((driver) => ({
    name: driver.name,
    // null: the protocol has no program of its own (acp): every agent names one.
    command:
      typeof driver.command === "object" && driver.command !== null
        ? null
        : (driver.command ?? defaultCommand),
    default: driver.name === defaultProtocol,
    capabilities: { ...driver.capabilities },
  }));
}
