import { setDefaultTimeout } from "bun:test";

// Each test drives real agent CLIs through several model calls on a shared 2-core machine.
setDefaultTimeout(120_000);
