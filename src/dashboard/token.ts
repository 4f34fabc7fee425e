/**
 * The operator's API token, kept for this tab only (sessionStorage): never in the URL, never in
 * a cookie, gone when the tab closes.
 */
const KEY = "agentd.token";

export const tokenStore = {
  get(): string | null {
    return sessionStorage.getItem(KEY);
  },
  set(token: string): void {
    sessionStorage.setItem(KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
  },
};
