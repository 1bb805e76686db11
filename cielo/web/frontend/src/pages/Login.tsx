// Log in with an API key: typed into a password field, Enter submits. The key is checked
// against /api/status before it is kept (in sessionStorage: gone when the tab closes). An
// empty key sends no Authorization header, for a server that lets anonymous clients in.

import { useState } from "react";
import type { FormEvent } from "react";
import { Api, errorText } from "../api";

export function LoginPage(props: { onLogin: (key: string) => void; notice?: string }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(props.notice ?? null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await new Api(key.trim()).status();
      props.onLogin(key.trim());
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form onSubmit={submit} className="card" aria-labelledby="login-title">
        <h1 id="login-title">
          <img src="/favicon.svg" alt="" width="28" height="28" /> cielo
        </h1>
        {/* Password managers (and Chromium) expect a user name beside a password field. */}
        <input type="text" name="username" autoComplete="username" value="api-key" readOnly hidden />
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="current-password"
          autoFocus
          aria-describedby="api-key-help"
          value={key}
          onChange={(e) => setKey(e.target.value)}
        />
        <p id="api-key-help" className="muted small">
          Leave it empty for a server that needs no key (on loopback, without
          CIELO_SERVER_API_KEY).
        </p>
        <button type="submit" disabled={busy}>
          Log in
        </button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
