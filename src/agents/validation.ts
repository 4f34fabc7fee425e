import { NAME_PATTERN, NAME_RULE, TURN_ID_PATTERN, TURN_ID_RULE } from "../api/names.ts";
import { BadRequestError, PayloadTooLargeError } from "../errors.ts";

const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables agentd sets for agents itself; an agent's own env may not shadow them. */
export const RESERVED_ENV_PREFIX = "AGENTD_";

export function checkName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new BadRequestError(`invalid name "${name}": use ${NAME_RULE}`);
  }
  return name;
}

export function checkTurnId(turnId: string): string {
  if (!TURN_ID_PATTERN.test(turnId)) {
    throw new BadRequestError(`invalid turn_id "${turnId}": use ${TURN_ID_RULE}`);
  }
  return turnId;
}

export function checkWebhook(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BadRequestError(`invalid webhook URL "${url}": not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new BadRequestError(`invalid webhook URL "${url}": must start with http:// or https://`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    // Stored and shown with the agent: a password in it would be readable through the API.
    throw new BadRequestError(
      `invalid webhook URL: it carries credentials (user:password@); agentd signs webhooks with AGENTD_WEBHOOK_SECRET instead`,
    );
  }
  return url;
}

export function checkPrompt(text: string, what: string, maxBytes: number): string {
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) {
    throw new PayloadTooLargeError(
      `${what} is ${bytes} bytes, over the limit of ${maxBytes} bytes (--max-prompt-bytes)`,
    );
  }
  if (text.includes("\0")) {
    throw new BadRequestError(`${what} contains a NUL byte, which ends a prompt on the wire`);
  }
  if (text.trim() === "") throw new BadRequestError(`${what} is empty`);
  return text;
}

export function checkEnv(env: Record<string, string>): Record<string, string> {
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_KEY_PATTERN.test(key)) {
      throw new BadRequestError(
        `invalid env name "${key}": use letters, digits and _, not starting with a digit`,
      );
    }
    if (key.startsWith(RESERVED_ENV_PREFIX)) {
      throw new BadRequestError(
        `env ${key}: names starting with ${RESERVED_ENV_PREFIX} are agentd's own; choose another name`,
      );
    }
    if (/[\0\n\r]/.test(value)) {
      throw new BadRequestError(
        `env ${key} contains a NUL byte or a line break, which agentd refuses (a NUL ends a value, and a persistent agent's env file cannot carry a line break); pass such text in a file`,
      );
    }
  }
  return env;
}

export function checkArgs(args: string[]): string[] {
  for (const arg of args) {
    if (arg.includes("\0")) throw new BadRequestError("extra_args may not contain NUL bytes");
  }
  return args;
}

/** A short random suffix: ids stay readable and unique. */
export function shortRandom(length = 8): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}
