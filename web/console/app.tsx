import { useEffect, useState } from "preact/hooks";

import { Code, ConnectError, createBaton, type Baton } from "../../client/ts/src/index.js";
import type { Agent } from "../../gen/ts/baton/v1/routing_pb.js";

const keyName = "baton.console.key";

/** Who signed in: their client, and the agent behind the key (none for an admin key). */
export interface Session {
  api: Baton;
  agent?: Agent;
}

/**
 * Checks a key by asking Baton who it belongs to: an agent's heartbeat returns the agent; an
 * admin key, which names no agent, is checked by a read any admin may do.
 */
async function signIn(baseUrl: string, key: string): Promise<Session> {
  const api = createBaton({ baseUrl, apiKey: key });
  try {
    const { agent } = await api.routing.heartbeat({});
    return { api, agent };
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code === Code.Unauthenticated) throw e;
    await api.routing.listQueues({ pageSize: 1 });
    return { api };
  }
}

function explain(err: unknown): string {
  const e = ConnectError.from(err);
  switch (e.code) {
    case Code.Unauthenticated:
      return "This key is not valid: it may be mistyped or revoked.";
    case Code.PermissionDenied:
      return "This key may not use the console: sign in with an agent or admin key.";
    case Code.Unavailable:
      return "Baton cannot be reached. Check the connection and try again.";
    default:
      return e.rawMessage;
  }
}

export function App({ baseUrl }: { baseUrl: string }) {
  const [session, setSession] = useState<Session>();
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const attempt = async (key: string) => {
    setBusy(true);
    setError("");
    try {
      const s = await signIn(baseUrl, key);
      sessionStorage.setItem(keyName, key);
      setSession(s);
    } catch (err) {
      sessionStorage.removeItem(keyName);
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    const key = sessionStorage.getItem(keyName);
    if (key) void attempt(key);
  }, []);

  if (!session) return <SignIn onKey={attempt} error={error} busy={busy} />;
  return (
    <main class="workspace">
      <h1>Signed in{session.agent ? ` as ${session.agent.displayName}` : " as admin"}</h1>
    </main>
  );
}

function SignIn({ onKey, error, busy }: { onKey: (key: string) => void; error: string; busy: boolean }) {
  const [key, setKey] = useState("");
  return (
    <main class="sign-in">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim()) onKey(key.trim());
        }}
      >
        <h1>Baton console</h1>
        <label for="key">API key</label>
        <input id="key" type="password" autocomplete="off" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <p class="hint">The key stays in this tab only.</p>
      </form>
    </main>
  );
}
