import { Elysia } from "elysia";
import type { Config } from "../config.ts";
import { isLoopbackHost, parseHost } from "../loopback.ts";
import { errorResponse } from "./errors.ts";
import { hostOf } from "./request-url.ts";

const KEPT_VERDICTS = 64;

/**
 * The DNS-rebinding defence. A web page at evil.example can point its name at 127.0.0.1 and
 * then call the daemon from the victim's browser as its own origin; the browser still sends
 * `Host: evil.example`. So on a loopback address the daemon answers only to loopback names and
 * to the names given with --allowed-hosts (which are checked on any address once given).
 */
export function hostCheck(config: Pick<Config, "host" | "allowedHosts">) {
  const enforced = isLoopbackHost(config.host) || config.allowedHosts.length > 0;
  const allowed = new Set(config.allowedHosts);
  const isAllowed = (header: string) => {
    const host = parseHost(header);
    return host !== null && (isLoopbackHost(host.name) || allowed.has(host.name));
  };
  // Clients name the daemon the same way each time: the verdicts on the few Host headers seen
  // are kept (a bounded number: anyone may send any header).
  const verdicts = new Map<string, boolean>();
  return new Elysia({ name: "agentd.host-check" }).onRequest(({ request }) => {
    if (!enforced) return;
    const header = request.headers.get("host") ?? hostOf(request.url);
    let verdict = verdicts.get(header);
    if (verdict === undefined) {
      verdict = isAllowed(header);
      if (verdicts.size >= KEPT_VERDICTS) verdicts.clear();
      verdicts.set(header, verdict);
    }
    if (verdict) return;
    return errorResponse(
      403,
      "host_not_allowed",
      `Host "${header}" is not a name of this daemon: it answers only to loopback names (localhost, 127.0.0.1, [::1])${allowed.size > 0 ? ` and ${[...allowed].join(", ")}` : ""}, so that a web page whose name points at this machine cannot use it; to reach it under another name, add the name with --allowed-hosts`,
    );
  });
}
