import { Elysia, t } from "elysia";
import { DEFAULT_AGENT_PAGE, MAX_AGENT_PAGE } from "../api/paging.ts";
import {
  AgentModeSchema,
  AgentSchema,
  AgentStatusSchema,
  CreateAgentBody,
  DeleteResultSchema,
  MAX_WAIT_MS,
  MessageSchema,
  PatchAgentBody,
  PatchResultSchema,
  SendBody,
  SendResultSchema,
  TurnSchema,
} from "../api/schemas.ts";
import { readLog } from "../logs/follow.ts";
import type { AgentRecord } from "../store/agents.ts";
import { nextPageHeader, positionOf } from "./agent-pages.ts";
import type { AppContext } from "./context.ts";
import { isOn, QueryFlag, QueryInteger } from "./query.ts";
import { streamingResponse } from "./streaming.ts";
import { agentJson, agentView, jsonArray, jsonResponse, turnView } from "./views.ts";

const IdParams = t.Object({ id: t.String() });
const TurnParams = t.Object({ id: t.String(), turn_id: t.String() });
const GraceMs = t.Optional(QueryInteger("grace_ms", 0, 3_600_000));
const GraceQuery = t.Object({ grace_ms: GraceMs });
/**
 * `?force=1`: overwrite persistent agents' generated files even where edited by hand; on DELETE,
 * remove the workspace even if that loses work.
 */
const Force = t.Optional(
  t.Union([t.Literal("1"), t.Literal("true"), t.Literal("0"), t.Literal("false")]),
);
const ForceQuery = t.Object({ force: Force });

const CURSOR_HELP =
  "where the page starts: copied from the Link header of the page before; leave it out for the first page";
const LINK_HELP =
  'RFC 8288: `</agents?…&cursor=…>; rel="next"`, the next page with this request\'s filters and limit; absent on the last page';

function forced(query: { force?: string | undefined }) {
  return { force: query.force === "1" || query.force === "true" };
}

export function agentRoutes(ctx: AppContext) {
  const agents = ctx.agents;
  const view = (agent: AgentRecord) => agentView(agent, agents.turnCounts(agent.id));
  const json = (agent: AgentRecord) => agentJson(agent, agents.turnCounts(agent.id));
  return new Elysia({ prefix: "/agents", tags: ["agents"] })
    .post(
      "/",
      async ({ body, query, set }) => {
        const agent = await agents.create(body, forced(query));
        set.status = 201;
        return view(agent);
      },
      {
        body: CreateAgentBody,
        query: ForceQuery,
        response: { 201: AgentSchema },
        detail: { summary: "Create and start an agent" },
      },
    )
    .get(
      "/",
      ({ query, request }) => {
        const page = agents.page({
          status: query.status,
          mode: query.mode,
          after: query.cursor === undefined ? undefined : positionOf(query.cursor),
          limit: query.limit ?? DEFAULT_AGENT_PAGE,
        });
        const last = page.agents.at(-1);
        const headers: Record<string, string> =
          page.more && last !== undefined ? { link: nextPageHeader(request.url, last) } : {};
        return jsonResponse(jsonArray(page.agents.map(json)), headers);
      },
      {
        query: t.Object({
          status: t.Optional(AgentStatusSchema),
          mode: t.Optional(AgentModeSchema),
          limit: t.Optional(QueryInteger("limit", 1, MAX_AGENT_PAGE)),
          cursor: t.Optional(t.String({ description: CURSOR_HELP })),
        }),
        response: t.Array(AgentSchema, {
          description: "a page of agents, oldest first",
          // The response headers of the OpenAPI document (the plugin reads them from here).
          headers: { Link: t.String({ description: LINK_HELP }) },
        }),
        detail: {
          summary: `List agents, oldest first, a page at a time (${DEFAULT_AGENT_PAGE} unless limit says otherwise, ${MAX_AGENT_PAGE} at most); the Link header names the next page`,
        },
      },
    )
    .get("/:id", ({ params }) => jsonResponse(json(agents.get(params.id))), {
      params: IdParams,
      response: AgentSchema,
      detail: { summary: "One agent" },
    })
    .patch(
      "/:id",
      async ({ params, body, query }) => {
        const result = await agents.patch(params.id, body, forced(query));
        return { agent: view(result.agent), restart_required: result.restart_required };
      },
      {
        params: IdParams,
        body: PatchAgentBody,
        query: ForceQuery,
        response: PatchResultSchema,
        detail: {
          summary:
            "Change config; persistent agents' files are rewritten, and a restart applies it",
        },
      },
    )
    .post("/:id/send", ({ params, body }) => agents.send(params.id, body), {
      params: IdParams,
      body: SendBody,
      response: SendResultSchema,
      detail: { summary: "Send a prompt (a turn); with wait, answer when the turn ends" },
    })
    .post(
      "/:id/start",
      async ({ params, query }) => view(await agents.start(params.id, forced(query))),
      {
        params: IdParams,
        query: ForceQuery,
        response: AgentSchema,
        detail: { summary: "Start a stopped agent" },
      },
    )
    .post(
      "/:id/stop",
      async ({ params, query }) => view(await agents.stop(params.id, query.grace_ms)),
      {
        params: IdParams,
        query: GraceQuery,
        response: AgentSchema,
        detail: { summary: "Stop: SIGTERM to the process group, SIGKILL after grace_ms" },
      },
    )
    .post(
      "/:id/restart",
      async ({ params, query }) =>
        view(await agents.restart(params.id, query.grace_ms, forced(query))),
      {
        params: IdParams,
        query: t.Object({ grace_ms: GraceMs, force: Force }),
        response: AgentSchema,
        detail: { summary: "Stop, then start" },
      },
    )
    .delete("/:id", ({ params, query }) => agents.remove(params.id, forced(query)), {
      params: IdParams,
      query: ForceQuery,
      response: DeleteResultSchema,
      detail: {
        summary:
          "Stop if needed; remove the agent's workspace, then the agent, its turns, messages, events and logs. " +
          "A workspace holding uncommitted files or unmerged commits is a 409 listing them (the agent keeps running) unless force=1; an external cwd is never touched",
      },
    })
    .get("/:id/messages", ({ params }) => agents.messages(params.id), {
      params: IdParams,
      response: t.Array(MessageSchema),
      detail: { summary: "The conversation" },
    })
    .get(
      "/:id/turns",
      ({ params, query }) =>
        agents.turns(params.id, { limit: query.limit ?? 50, before: query.before }).map(turnView),
      {
        params: IdParams,
        query: t.Object({
          limit: t.Optional(QueryInteger("limit", 1, 1000)),
          before: t.Optional(t.String()),
        }),
        response: t.Array(TurnSchema),
        detail: { summary: "Turns, newest first" },
      },
    )
    .get(
      "/:id/turns/:turn_id",
      async ({ params, query }) => {
        const timeout = query.timeout_ms ?? null;
        const turn = isOn(query.wait)
          ? await agents.awaitTurn(params.id, params.turn_id, timeout)
          : agents.turn(params.id, params.turn_id);
        return turnView(turn);
      },
      {
        params: TurnParams,
        query: t.Object({
          wait: t.Optional(QueryFlag),
          timeout_ms: t.Optional(QueryInteger("timeout_ms", 0, MAX_WAIT_MS)),
        }),
        response: TurnSchema,
        detail: {
          summary:
            "One turn, at any time; with wait=1 answers when it ends (or at timeout_ms, still open)",
        },
      },
    )
    .post(
      "/:id/turns/:turn_id/cancel",
      async ({ params }) => turnView(await agents.cancel(params.id, params.turn_id)),
      {
        params: TurnParams,
        response: TurnSchema,
        detail: {
          summary:
            "Cancel a running turn with the protocol's own interrupt; the agent keeps running (409 where the protocol cannot cancel)",
        },
      },
    )
    .get(
      "/:id/logs",
      ({ params, query, request }) => {
        const follow = isOn(query.follow);
        const chunks = readLog(agents.logPath(params.id), {
          tail: query.tail,
          follow,
          finished: () => !agents.isLive(params.id),
          signal: request.signal,
        });
        const headers = { "content-type": "text/plain; charset=utf-8" };
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const next = await chunks.next();
            if (next.done) controller.close();
            else controller.enqueue(next.value);
          },
          async cancel() {
            await chunks.return(undefined);
          },
        });
        return follow ? streamingResponse(body, headers) : new Response(body, { headers });
      },
      {
        params: IdParams,
        query: t.Object({
          tail: t.Optional(QueryInteger("tail", 0)),
          follow: t.Optional(QueryFlag),
        }),
        detail: {
          summary:
            "The raw agent log, across its rotated files; follow=true streams it as it grows, until the agent stops",
        },
      },
    );
}
