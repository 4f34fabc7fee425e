/**
 * `GET /agents` answers one page: a JSON array of agents, oldest first, at most `limit` of them
 * (`DEFAULT_AGENT_PAGE` without it). When more follow, the answer's `Link` header names the
 * next page (RFC 8288, `rel="next"`), with the request's other parameters and a `cursor`; the
 * last page has none. Clients that want every agent follow it (`nextPage`).
 */

export const DEFAULT_AGENT_PAGE = 100;
export const MAX_AGENT_PAGE = 1000;

/** The header value announcing the next page at `target` (a URI reference). */
export function nextPageLink(target: string): string {
  return `<${target}>; rel="next"`;
}

/**
 * The target of the `rel="next"` link in a `Link` header, as written (a URI reference, to be
 * resolved against the URL of the answer that carried it), or null when there is none.
 */
export function nextPage(header: string | null): string | null {
  if (header === null) return null;
  // Each link: <target>, then its parameters (`; name=value`, the value maybe "quoted").
  const links = /<([^>]*)>((?:\s*;\s*(?:[^;,"]|"[^"]*")*)*)/g;
  for (const [, target, params] of header.matchAll(links)) {
    for (const [, quoted, bare] of (params ?? "").matchAll(
      /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/gi,
    )) {
      // A rel may name several relation types, separated by spaces.
      const types = (quoted ?? bare ?? "").toLowerCase().split(/\s+/);
      if (types.includes("next")) return target ?? null;
    }
  }
  return null;
}
