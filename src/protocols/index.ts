import type { ProtocolDriver } from "./events.ts";
import { omni } from "./omni.ts";

const DRIVERS: Record<string, ProtocolDriver> = { [omni.name]: omni };

export const PROTOCOL_NAMES = Object.keys(DRIVERS);

export function protocolDriver(name: string): ProtocolDriver | undefined {
  return DRIVERS[name];
}
