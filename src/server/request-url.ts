/**
 * Parts of a request's URL, read from the string as Bun gives it (`http://host:port/path?query`).
 * Parsing it with `new URL` costs more than answering most requests.
 */

/** Where the path starts; -1 when the URL has none. */
function pathStart(url: string): number {
  return url.indexOf("/", url.indexOf("://") + 3);
}

/** The path, without the query. */
export function pathOf(url: string): string {
  const start = pathStart(url);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  return url.slice(start, query === -1 ? undefined : query);
}

/** The path with the query. */
export function pathAndQueryOf(url: string): string {
  const start = pathStart(url);
  return start === -1 ? "/" : url.slice(start);
}

/** `host[:port]`. */
export function hostOf(url: string): string {
  const start = url.indexOf("://") + 3;
  const end = pathStart(url);
  return url.slice(start, end === -1 ? undefined : end);
}
