import { useEffect, useState } from "preact/hooks";

/** The dashboard's pages, addressed by the URL's fragment, so the daemon serves only `/`. */
export type Route =
  | { page: "overview" }
  | { page: "new" }
  | { page: "agent"; id: string }
  | { page: "unknown"; hash: string };

export function routeOf(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/";
  if (path === "/") return { page: "overview" };
  if (path === "/new") return { page: "new" };
  const agent = /^\/agents\/([^/]+)$/.exec(path);
  if (agent) return { page: "agent", id: decodeURIComponent(agent[1] as string) };
  return { page: "unknown", hash };
}

export const hrefOf = {
  overview: "#/",
  create: "#/new",
  agent: (id: string) => `#/agents/${encodeURIComponent(id)}`,
};

export function navigate(href: string): void {
  location.hash = href;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.hash));
  useEffect(() => {
    const changed = () => setRoute(routeOf(location.hash));
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}
