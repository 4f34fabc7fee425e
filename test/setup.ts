import { setDefaultTimeout } from "bun:test";

// Tests start real daemons, agents and a systemd manager: a slow machine needs more than 5 s.
setDefaultTimeout(60_000);
