import { Elysia } from "elysia";
import { AgentdError, errorMessage, UnsupportedMediaTypeError } from "../errors.ts";

/**
 * Request bodies are JSON, sent as `application/json`; other content types are refused (415)
 * rather than guessed at. A web page can send text/plain or a form to any address without
 * asking first (no CORS preflight); JSON it cannot. An empty body is no body.
 */
export const jsonBodies = new Elysia({ name: "agentd.json-bodies" }).onParse(
  { as: "global" },
  async ({ request }, contentType) => {
    if (request.body === null) return;
    const text = await request.text();
    if (text === "") return;
    if (contentType !== "application/json") {
      throw new UnsupportedMediaTypeError(
        `the request body is ${contentType === "" ? "of no declared type" : contentType}: send JSON with Content-Type: application/json`,
      );
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new AgentdError(
        400,
        "malformed_body",
        `request body is not valid JSON: ${errorMessage(error)}`,
      );
    }
  },
);
