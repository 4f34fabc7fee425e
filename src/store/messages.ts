import type { Database } from "bun:sqlite";
import { run } from "./sql.ts";
import { nowIso } from "./time.ts";

export type MessageRole = "user" | "assistant";

export interface MessageRecord {
  role: MessageRole;
  content: string;
  turn_id: string | null;
  created_at: string;
}

/** `created_at` is now unless the message is carried over from elsewhere (an import). */
export function insertMessage(
  db: Database,
  agentId: string,
  message: { role: MessageRole; content: string; turn_id: string | null; created_at?: string },
): void {
  run(
    db,
    `INSERT INTO messages (agent_id, turn_id, role, content, created_at)
     VALUES ($agent, $turn, $role, $content, $now)`,
    {
      agent: agentId,
      turn: message.turn_id,
      role: message.role,
      content: message.content,
      now: message.created_at ?? nowIso(),
    },
  );
}

export function listMessages(db: Database, agentId: string): MessageRecord[] {
  return db
    .query<MessageRecord, [string]>(
      "SELECT role, content, turn_id, created_at FROM messages WHERE agent_id = ? ORDER BY id",
    )
    .all(agentId);
}
