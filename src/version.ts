import pkg from "../package.json" with { type: "json" };

declare const AGENTD_VERSION: string | undefined;

/** Set by build.ts for the compiled binary; from source it is the package version + "-dev". */
export const VERSION: string =
  typeof AGENTD_VERSION === "string" ? AGENTD_VERSION : `${pkg.version}-dev`;
