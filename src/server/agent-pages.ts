import { nextPageLink } from "../api/paging.ts";
import { AgentdError } from "../errors.ts";
import type { AgentPosition } from "../store/agents.ts";
import { pathAndQueryOf } from "./request-url.ts";

/**
 * Cursors of `GET /agents`: the position of a page's last agent (its created_at and id), so
 * the next page starts right after it whether or not that agent still exists. Opaque to
 * clients (base64url of JSON), who only ever copy them from a Link header.
 */

export function cursorAfter(last: AgentPosition): string {
  return Buffer.from(JSON.stringify([last.created_at, last.id])).toString("base64url");
}

/** The position a cursor stands for; a 400 for anything this daemon did not hand out. */
export function positionOf(cursor: string): AgentPosition {
  const position = decoded(cursor);
  if (position === null) {
    throw new AgentdError(
      400,
      "invalid_cursor",
      `query.cursor "${cursor.slice(0, 100)}" is not a cursor of GET /agents: copy it from the Link header of the page before, or leave it out to start from the first page`,
    );
  }
  return position;
}

function decoded(cursor: string): AgentPosition | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [created_at, id] = value as unknown[];
  if (typeof created_at !== "string" || typeof id !== "string" || id === "") return null;
  return { created_at, id };
}

/**
 * The Link header naming the page after `last`: the request's own path and parameters (its
 * filters, its limit) with the new cursor, as a path-absolute reference.
 */
export function nextPageHeader(requestUrl: string, last: AgentPosition): string {
  const target = pathAndQueryOf(requestUrl);
  const query = target.indexOf("?");
  const path = query === -1 ? target : target.slice(0, query);
  const params = new URLSearchParams(query === -1 ? "" : target.slice(query + 1));
  params.delete("cursor");
  params.append("cursor", cursorAfter(last));
  return nextPageLink(`${path}?${params}`);
}
