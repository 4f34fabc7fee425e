/**
 * Forward-only schema migrations. Migration N (1-based) brings `PRAGMA user_version` from N-1 to N.
 * Never edit a migration that has shipped; append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    title TEXT,
    mode TEXT NOT NULL CHECK (mode IN ('run', 'persistent')),
    protocol TEXT NOT NULL,
    status TEXT NOT NULL,
    command TEXT,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    cwd TEXT NOT NULL,
    workspace TEXT,
    thinking TEXT,
    extra_args TEXT NOT NULL DEFAULT '[]',
    env TEXT NOT NULL DEFAULT '{}',
    webhook TEXT,
    turn_envelope INTEGER NOT NULL DEFAULT 1,
    pid INTEGER,
    prompt TEXT,
    summary TEXT,
    error TEXT,
    exit_code INTEGER,
    cost_micro_usd INTEGER,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    turns INTEGER NOT NULL DEFAULT 0,
    restarts INTEGER NOT NULL DEFAULT 0,
    events_offset INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT,
    updated_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX agents_status ON agents (status);

  CREATE TABLE turns (
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    input TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'error', 'cancelled')),
    response TEXT,
    error TEXT,
    metadata TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_micro_usd INTEGER,
    created_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT,
    PRIMARY KEY (agent_id, id)
  ) STRICT;
  CREATE INDEX turns_by_position ON turns (agent_id, position);

  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    turn_id TEXT,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX messages_by_agent ON messages (agent_id, id);

  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX events_by_agent ON events (agent_id, seq);

  CREATE TABLE workspaces (
    agent_id TEXT PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    managed INTEGER NOT NULL DEFAULT 0,
    repo TEXT,
    branch TEXT,
    base TEXT,
    status TEXT,
    size_bytes INTEGER,
    created_at TEXT NOT NULL,
    accessed_at TEXT
  ) STRICT;

  CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    url TEXT NOT NULL,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT
  ) STRICT;
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
  `,
  // Workspaces get a kind (managed directory, git worktree, or a cwd agentd only uses) instead of
  // a managed flag, and a status that says whether they are still on disk. Nothing wrote the
  // table before, but rows are carried over all the same.
  `
  CREATE TABLE workspaces_v2 (
    agent_id TEXT PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('dir', 'worktree', 'external')),
    path TEXT NOT NULL,
    repo TEXT,
    branch TEXT,
    base TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'missing', 'removed')),
    size_bytes INTEGER,
    created_at TEXT NOT NULL,
    accessed_at TEXT NOT NULL
  ) STRICT;
  INSERT INTO workspaces_v2
    SELECT agent_id,
           CASE WHEN managed = 0 THEN 'external' WHEN repo IS NOT NULL THEN 'worktree' ELSE 'dir' END,
           path, repo, branch, base, 'active', size_bytes, created_at,
           coalesce(accessed_at, created_at)
    FROM workspaces;
  DROP TABLE workspaces;
  ALTER TABLE workspaces_v2 RENAME TO workspaces;
  `,
  // The agent CLI's own conversation id (to resume it in a new process), and the policy that
  // answers the agent's tool-permission requests.
  `
  ALTER TABLE agents ADD COLUMN session_id TEXT;
  ALTER TABLE agents ADD COLUMN permissions TEXT NOT NULL DEFAULT 'ask-denied'
    CHECK (permissions IN ('ask-denied', 'allow-all', 'read-only'));
  `,
  // Cost you can budget. Every model call's usage becomes a row of its own (a ledger: it keeps
  // the model, the protocol and the time, and outlives the agent, so totals over a week do not
  // shrink when agents are removed); turns keep the model of their last call; agents get a
  // budget, what to do when it runs out, and the budget state last announced. Usage already
  // recorded on turns is carried into the ledger under its agent's model.
  `
  CREATE TABLE usage (
    id INTEGER PRIMARY KEY,
    agent_id TEXT NOT NULL,
    turn_id TEXT,
    protocol TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost_micro_usd INTEGER,
    created_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX usage_by_time ON usage (created_at);
  INSERT INTO usage (agent_id, turn_id, protocol, model, input_tokens, output_tokens,
                     cost_micro_usd, created_at)
    SELECT turns.agent_id, turns.id, agents.protocol, agents.model, turns.input_tokens,
           turns.output_tokens, turns.cost_micro_usd,
           coalesce(turns.completed_at, turns.started_at, turns.created_at)
    FROM turns JOIN agents ON agents.id = turns.agent_id
    WHERE turns.input_tokens > 0 OR turns.output_tokens > 0 OR turns.cost_micro_usd IS NOT NULL
    ORDER BY turns.created_at;

  ALTER TABLE turns ADD COLUMN model TEXT;
  CREATE INDEX turns_by_status ON turns (agent_id, status);

  ALTER TABLE agents ADD COLUMN budget_micro_usd INTEGER;
  ALTER TABLE agents ADD COLUMN budget_action TEXT NOT NULL DEFAULT 'finish'
    CHECK (budget_action IN ('finish', 'cancel'));
  ALTER TABLE agents ADD COLUMN budget_state TEXT NOT NULL DEFAULT 'ok'
    CHECK (budget_state IN ('ok', 'warning', 'exhausted'));

  CREATE TABLE prices (
    model TEXT PRIMARY KEY,
    input_usd_per_mtok REAL NOT NULL CHECK (input_usd_per_mtok >= 0),
    output_usd_per_mtok REAL NOT NULL CHECK (output_usd_per_mtok >= 0)
  ) STRICT;
  `,
  // An agent's workspace is its row in workspaces; the agents column (only an import of the
  // original daemon's records wrote it) becomes such a row, of a directory agentd never touches.
  `
  INSERT INTO workspaces (agent_id, kind, path, status, created_at, accessed_at)
    SELECT id, 'external', workspace, 'active', created_at, created_at
    FROM agents a
    WHERE workspace IS NOT NULL AND workspace != ''
      AND NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.agent_id = a.id);
  ALTER TABLE agents DROP COLUMN workspace;
  `,
  // Issue 12: a process is known by its pid and its start time (pid_start, clock ticks after
  // boot, /proc/PID/stat field 22), so a reused pid is never taken for the agent's process; runs
  // get a restart policy (persistent agents restart on failure, as their unit says); turns may
  // have a time limit. storage_probe is only ever written in transactions that are rolled back:
  // whether the database could grow now (see store/database-health.ts).
  `
  CREATE TABLE storage_probe (data BLOB NOT NULL) STRICT;
  ALTER TABLE agents ADD COLUMN pid_start INTEGER;
  ALTER TABLE agents ADD COLUMN restart TEXT NOT NULL DEFAULT 'no'
    CHECK (restart IN ('no', 'on-failure', 'always'));
  ALTER TABLE agents ADD COLUMN turn_timeout_s INTEGER;
  UPDATE agents SET restart = 'on-failure' WHERE mode = 'persistent';
  `,
  // Issue 9: a watchdog for agent CLIs that hang after their last event: a turn with no output
  // from its agent for this long is failed.
  `
  ALTER TABLE agents ADD COLUMN turn_idle_timeout_s INTEGER;
  `,
  // Issue 10: events are stored a batch to a row (the events of an agent recorded together, in
  // one transaction), as a JSON array of [type, data, created_at]: SQLite's cost is per row, so
  // one row per event capped ingestion far below what reading and parsing the lines costs. A
  // batch holds the seqs last_seq - count + 1 to last_seq; those before first_seq were pruned.
  // last_seq is AUTOINCREMENT so that no seq is ever handed out twice, as before; the sequence
  // goes on from the old table's. The view "events" shows one row per event, as the table did.
  // For the same reason a usage ledger row may stand for several calls written together, of one
  // turn and model, their costs all known or all unknown.
  `
  CREATE TABLE event_batches (
    last_seq INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    count INTEGER NOT NULL CHECK (count > 0),
    first_seq INTEGER NOT NULL,
    events TEXT NOT NULL,
    CHECK (first_seq BETWEEN last_seq - count + 1 AND last_seq)
  ) STRICT;
  CREATE INDEX event_batches_by_agent ON event_batches (agent_id, last_seq);
  INSERT INTO event_batches (last_seq, agent_id, count, first_seq, events)
    SELECT seq, agent_id, 1, seq, json_array(json_array(type, json(data), created_at))
    FROM events ORDER BY seq;
  INSERT INTO sqlite_sequence (name, seq)
    SELECT 'event_batches', seq FROM sqlite_sequence WHERE name = 'events'
      AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'event_batches');
  UPDATE sqlite_sequence
    SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0))
    WHERE name = 'event_batches';
  DROP TABLE events;
  CREATE VIEW events (seq, agent_id, type, data, created_at) AS
    SELECT b.last_seq - b.count + 1 + e.key, b.agent_id, e.value ->> 0, e.value -> 1, e.value ->> 2
    FROM event_batches b, json_each(b.events) e
    WHERE b.last_seq - b.count + 1 + e.key >= b.first_seq;

  ALTER TABLE usage ADD COLUMN calls INTEGER NOT NULL DEFAULT 1 CHECK (calls > 0);
  `,
];
