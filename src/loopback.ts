/**
 * Names and addresses of this machine's loopback interface, for the two questions asked of
 * them: is the daemon listening where only this machine can reach it, and does a request's
 * Host header name this machine (a DNS-rebinding page's names it does not).
 */

/** `localhost`, `*.localhost` (RFC 6761), 127.0.0.0/8, ::1 and IPv4-mapped 127.x addresses. */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (/^127(\.\d{1,3}){3}$/.test(name)) return true;
  const v6 = name.replace(/^::ffff:/, "");
  if (v6 !== name && /^127(\.\d{1,3}){3}$/.test(v6)) return true;
  return name === "::1" || /^(0{1,4}:){7}0{0,3}1$/.test(name);
}

/**
 * A `host[:port]` as a Host header carries it (IPv6 in brackets): the name lowercased, without
 * brackets or a trailing dot, and the port when there is one; null when it is not a host.
 */
export function parseHost(text: string): { name: string; port: number | null } | null {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]/?#@\s\\]+)(?::(\d{1,5}))?$/.exec(text);
  if (!match) return null;
  let hostname: string;
  try {
    hostname = new URL(`http://${match[1]}`).hostname;
  } catch {
    return null;
  }
  const name = hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  return { name, port: match[2] === undefined ? null : Number(match[2]) };
}
