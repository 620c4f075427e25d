import { useEffect, useState } from "preact/hooks";

import { Code, ConnectError, createBaton } from "../../client/ts/src/index.js";
import { explain } from "./format.js";
import { Workspace, type Session } from "./workspace.js";

const keyName = "baton.console.key";

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
    <Workspace
      session={session}
      onSignOut={() => {
        sessionStorage.removeItem(keyName);
        setSession(undefined);
      }}
    />
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
