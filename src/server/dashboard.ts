import { basename } from "node:path";
import type { HTMLBundle } from "bun";
import { Elysia, t } from "elysia";
import page from "../dashboard/index.html";
import { NotFoundError } from "../errors.ts";

/**
 * The web dashboard (src/dashboard/): its page at `/`, and the scripts, styles and icon the
 * page names, at the hashed names Bun's bundler gave them (`/chunk-1a2b3c4d.js`). Nothing here
 * holds data: the page asks the API for everything, with the operator's token, so it loads
 * without one.
 */

interface DashboardFile {
  body: Uint8Array;
  headers: Record<string, string>;
}

/** The page may load its own files and talk to its own origin; nothing else, nowhere framed. */
const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const COMMON_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const PAGE_HEADERS = {
  ...COMMON_HEADERS,
  "content-type": "text/html; charset=utf-8",
  // The page names its files by content hash: it must be fetched anew to see a new build.
  "cache-control": "no-cache",
  "content-security-policy": PAGE_POLICY,
  "x-frame-options": "DENY",
};

/** A file's name changes with its content, so a browser may keep it for good. */
const ASSET_CACHE = "public, max-age=31536000, immutable";

/**
 * The dashboard's files by the path they are served at. The compiled binary carries them as
 * `bun build --compile` bundled them from the HTML import; in a source checkout the page is
 * bundled here, once, on its first request.
 */
class DashboardFiles {
  private files: Map<string, DashboardFile> | null = null;
  private loading: Promise<Map<string, DashboardFile>> | null = null;

  constructor(private readonly bundle: HTMLBundle) {}

  /** True for `/` and the files the page names (known once the page has been bundled). */
  serves(path: string): boolean {
    return path === "/" || (this.files?.has(path) ?? false);
  }

  async get(path: string): Promise<DashboardFile> {
    this.loading ??= this.load().then((files) => {
      this.files = files;
      return files;
    });
    const file = (await this.loading).get(path);
    if (!file) throw new NotFoundError(`no route for GET ${path}`);
    return file;
  }

  private async load(): Promise<Map<string, DashboardFile>> {
    return this.bundle.files ? await builtAhead(this.bundle.files) : await bundleNow(this.bundle);
  }
}

type BuiltFile = NonNullable<HTMLBundle["files"]>[number];

async function builtAhead(built: BuiltFile[]): Promise<Map<string, DashboardFile>> {
  const files = new Map<string, DashboardFile>();
  for (const file of built) {
    const body = await Bun.file(file.path).bytes();
    files.set(...served(file.path, file.loader === "html", body, file.headers["content-type"]));
  }
  return files;
}

async function bundleNow(bundle: HTMLBundle): Promise<Map<string, DashboardFile>> {
  const result = await Bun.build({
    entrypoints: [bundle.index],
    target: "browser",
    publicPath: "/",
  });
  if (!result.success) {
    throw new Error(`the dashboard does not bundle:\n${result.logs.join("\n")}`);
  }
  const files = new Map<string, DashboardFile>();
  for (const output of result.outputs) {
    const body = new Uint8Array(await output.arrayBuffer());
    files.set(...served(output.path, output.type.startsWith("text/html"), body, output.type));
  }
  return files;
}

/** Where a bundled file is served, and how: the page at `/`, the rest by their own names. */
function served(
  path: string,
  isPage: boolean,
  body: Uint8Array,
  contentType: string,
): [string, DashboardFile] {
  if (isPage) return ["/", { body, headers: PAGE_HEADERS }];
  const headers = { ...COMMON_HEADERS, "content-type": contentType, "cache-control": ASSET_CACHE };
  return [`/${basename(path)}`, { body, headers }];
}

const dashboard = new DashboardFiles(page);

/** Requests for the dashboard's page and files, which need no token: they hold no data. */
export function isDashboardRequest(method: string, path: string): boolean {
  return (method === "GET" || method === "HEAD") && dashboard.serves(path);
}

function respond(file: DashboardFile): Response {
  return new Response(file.body, { headers: file.headers });
}

export function dashboardRoutes() {
  return new Elysia({ name: "agentd.dashboard" })
    .get("/", async () => respond(await dashboard.get("/")), { detail: { hide: true } })
    .get("/:file", async ({ params }) => respond(await dashboard.get(`/${params.file}`)), {
      params: t.Object({ file: t.String() }),
      detail: { hide: true },
    });
}
