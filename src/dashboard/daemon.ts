import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { ProtocolView } from "../api/protocols.ts";
import type { Api } from "./api.ts";

/** What every page works with: the API (with the token) and the protocols the daemon speaks. */
export interface Daemon {
  api: Api;
  protocols: ProtocolView[];
}

export const DaemonContext = createContext<Daemon | null>(null);

export function useDaemon(): Daemon {
  const daemon = useContext(DaemonContext);
  if (daemon === null) throw new Error("useDaemon outside of the dashboard's App");
  return daemon;
}
