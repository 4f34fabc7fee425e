/** Preloaded for every test run (bunfig.toml): what the whole run needs once. */
import { afterAll } from "bun:test";
import { removeTempDirs } from "./helpers/tmp.ts";

// A preloaded afterAll runs once, after the last file.
afterAll(() => removeTempDirs());
