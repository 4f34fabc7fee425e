import { type Json, RpcCallError } from "../json-rpc.ts";

/**
 * The agent's model and thinking level, chosen through what ACP offers: a session config
 * option of category `model` / `thought_level` (`session/set_config_option`), or, for the
 * model, the older `models` state with `session/set_model` (an unstable method the spec has
 * since dropped; Gemini CLI 0.61 offers only that). A setting the agent cannot take fails the
 * handshake with what to do instead, rather than run a model nobody asked for.
 */

/** What a session's setup (`session/new`, `load` or `resume`) reported about its settings. */
export interface SessionSettings {
  configOptions: Json[];
  /** The unstable `models` state: `{currentModelId, availableModels}`. */
  models: Json | null;
}

export function settingsOf(setup: Json): SessionSettings {
  return {
    configOptions: Array.isArray(setup?.configOptions) ? setup.configOptions : [],
    models: typeof setup?.models === "object" && setup.models !== null ? setup.models : null,
  };
}

/** Sends one request to the agent and resolves with its result. */
export type Requester = (method: string, params: object) => Promise<Json>;

export interface Wanted {
  /** A model id, or null to keep the agent's own choice. */
  model: string | null;
  thinking: string | null;
}

/** Applies the wanted model and thinking level; resolves with the model now in use. */
export async function applySettings(
  request: Requester,
  sessionId: string,
  settings: SessionSettings,
  wanted: Wanted,
): Promise<string | undefined> {
  let current = settings;
  if (wanted.model !== null) current = await selectModel(request, sessionId, current, wanted.model);
  if (wanted.thinking !== null) {
    current = await setOption(request, sessionId, current, "thought_level", wanted.thinking);
  }
  return currentModel(current);
}

/** The model the settings say is in use. */
export function currentModel(settings: SessionSettings): string | undefined {
  const option = optionOf(settings, "model");
  if (typeof option?.currentValue === "string") return option.currentValue;
  const legacy = settings.models?.currentModelId;
  return typeof legacy === "string" ? legacy : undefined;
}

async function selectModel(
  request: Requester,
  sessionId: string,
  settings: SessionSettings,
  model: string,
): Promise<SessionSettings> {
  if (optionOf(settings, "model") || settings.models === null) {
    return setOption(request, sessionId, settings, "model", model);
  }
  if (settings.models.currentModelId === model) return settings;
  await refusedAs(`model "${model}"`, availableModels(settings.models), () =>
    request("session/set_model", { sessionId, modelId: model }),
  );
  return { ...settings, models: { ...settings.models, currentModelId: model } };
}

/** Sets the select option of a category to a value (agentd does not offer boolean options). */
async function setOption(
  request: Requester,
  sessionId: string,
  settings: SessionSettings,
  category: "model" | "thought_level",
  value: string,
): Promise<SessionSettings> {
  const what = category === "model" ? `model "${value}"` : `thinking level "${value}"`;
  const option = optionOf(settings, category);
  if (!option) {
    const flag = category === "model" ? "model" : "thinking";
    throw new Error(
      `${what} was asked for, but the agent offers no ${category} setting over ACP: leave ` +
        `${flag} unset and give the agent's own command-line flag in extra_args`,
    );
  }
  if (option.currentValue === value) return settings;
  const params = { sessionId, configId: option.id, value };
  const result = await refusedAs(what, selectValues(option), () =>
    request("session/set_config_option", params),
  );
  const configOptions = Array.isArray(result?.configOptions) ? result.configOptions : null;
  return {
    ...settings,
    configOptions:
      configOptions ??
      settings.configOptions.map((each) =>
        each === option ? { ...option, currentValue: value } : each,
      ),
  };
}

/** The first option of a category; the spec's categories are hints, so `id` is tried too. */
function optionOf(settings: SessionSettings, category: string): Json | undefined {
  return (
    settings.configOptions.find((option) => option?.category === category) ??
    settings.configOptions.find((option) => option?.id === category)
  );
}

async function refusedAs(what: string, offered: string[], send: () => Promise<Json>) {
  try {
    return await send();
  } catch (error) {
    if (!(error instanceof RpcCallError)) throw error;
    const choices = offered.length > 0 ? `; it offers ${offered.join(", ")}` : "";
    throw new Error(`the agent refused ${what}: ${error.body.message}${choices}`);
  }
}

function selectValues(option: Json): string[] {
  if (!Array.isArray(option?.options)) return [];
  // Options are a flat list, or groups each with its own `options`.
  return option.options
    .flatMap((entry: Json) => (Array.isArray(entry?.options) ? entry.options : [entry]))
    .map((entry: Json) => entry?.value)
    .filter((value: unknown): value is string => typeof value === "string");
}

function availableModels(models: Json): string[] {
  if (!Array.isArray(models?.availableModels)) return [];
  return models.availableModels
    .map((model: Json) => model?.modelId)
    .filter((id: unknown): id is string => typeof id === "string");
}
