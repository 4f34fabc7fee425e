import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import type { ProtocolView } from "../api/protocols.ts";
import { AgentPage } from "./agent-page.tsx";
import { Api, type ApiError, asApiError } from "./api.ts";
import { ErrorNote } from "./components.tsx";
import { CreatePage } from "./create-page.tsx";
import { DaemonContext } from "./daemon.ts";
import { Overview } from "./overview.tsx";
import { hrefOf, type Route, useRoute } from "./route.ts";
import { tokenStore } from "./token.ts";
import { TokenPrompt } from "./token-prompt.tsx";

/**
 * Where the page stands with the daemon: finding out, needing a token (again), unreachable, or
 * connected with what it needs to show anything.
 */
type Connection =
  | { kind: "checking" }
  | { kind: "token"; refused: ApiError | null }
  | { kind: "unreachable"; error: ApiError }
  | { kind: "ready"; protocols: ProtocolView[] };

export function App() {
  const [connection, setConnection] = useState<Connection>({ kind: "checking" });
  const api = useMemo(
    () =>
      new Api({
        token: tokenStore.get,
        // A token the daemon refuses is forgotten, and the page asks again.
        onUnauthorized: (error) => {
          const hadToken = tokenStore.get() !== null;
          tokenStore.clear();
          setConnection({ kind: "token", refused: hadToken ? error : null });
        },
      }),
    [],
  );
  const connect = useCallback(async () => {
    setConnection({ kind: "checking" });
    try {
      const protocols = await api.get<ProtocolView[]>("/protocols");
      setConnection({ kind: "ready", protocols });
    } catch (caught) {
      const error = asApiError(caught);
      if (!error.unauthorized) setConnection({ kind: "unreachable", error });
    }
  }, [api]);
  useEffect(() => {
    void connect();
  }, [connect]);
  const route = useRoute();

  return (
    <>
      <Header
        signedIn={connection.kind === "ready" && tokenStore.get() !== null}
        onForget={() => {
          tokenStore.clear();
          void connect();
        }}
      />
      <main id="main">
        {connection.kind === "checking" && <p class="muted">Connecting to agentd…</p>}
        {connection.kind === "token" && (
          <TokenPrompt
            refused={connection.refused}
            onToken={(token) => {
              tokenStore.set(token);
              void connect();
            }}
          />
        )}
        {connection.kind === "unreachable" && (
          <section class="panel">
            <h1>agentd cannot be reached</h1>
            <ErrorNote error={connection.error} />
            <button type="button" onClick={() => void connect()}>
              Try again
            </button>
          </section>
        )}
        {connection.kind === "ready" && (
          <DaemonContext.Provider value={{ api, protocols: connection.protocols }}>
            <Page route={route} />
          </DaemonContext.Provider>
        )}
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "overview":
      return <Overview />;
    case "new":
      return <CreatePage />;
    case "agent":
      // A new key for another agent: nothing of one agent's page carries over to the next.
      return <AgentPage key={route.id} id={route.id} />;
    case "unknown":
      return (
        <section class="panel">
          <h1>No such page</h1>
          <p>
            Nothing lives at <code>{route.hash}</code>. <a href={hrefOf.overview}>All agents</a>
          </p>
        </section>
      );
  }
}

function Header({ signedIn, onForget }: { signedIn: boolean; onForget: () => void }) {
  return (
    <header class="top">
      <a class="brand" href={hrefOf.overview}>
        agentd
      </a>
      <nav aria-label="Pages">
        <a href={hrefOf.overview}>Agents</a>
        <a href={hrefOf.create}>New agent</a>
      </nav>
      {signedIn && (
        <button type="button" class="quiet" onClick={onForget}>
          Forget token
        </button>
      )}
    </header>
  );
}
