// Log in with an API key: typed into a password field, Enter submits. The key is checked
// against /api/status before it is kept (in sessionStorage: gone when the tab closes). An
// empty key sends no Authorization header, for a server that lets anonymous clients in.
//
// A server with a password authenticator (htpasswd, PAM, LDAP) or OIDC also takes a user
// name and password, or a token: the server checks them and makes this browser a key of
// the user's roles that expires (loginKey), which the pages then use as any key.

import { useEffect, useState } from "react";
import type { FormEvent, InputHTMLAttributes } from "react";
import { Api, basicAuthorization, errorText, loginKey, loginSchemes } from "../api";

/** `minted`: the key was made at this login (logging out revokes it). */
export type OnLogin = (key: string, minted: boolean) => void;

/** A labelled text field (`id` ties the label to it) whose value is `value`. */
function Field(
  props: { id: string; label: string; value: string; set: (v: string) => void } & InputHTMLAttributes<HTMLInputElement>,
) {
  const { id, label, value, set, ...rest } = props;
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <input id={id} spellCheck={false} value={value} onChange={(e) => set(e.target.value)} {...rest} />
    </>
  );
}

export function LoginPage(props: { onLogin: OnLogin; notice?: string }) {
  const [key, setKey] = useState("");
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [token, setToken] = useState("");
  const [schemes, setSchemes] = useState<string[]>(["apikey"]);
  const [error, setError] = useState<string | null>(props.notice ?? null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    void loginSchemes().then((s) => live && setSchemes(s));
    return () => {
      live = false;
    };
  }, []);

  /** Run `login` (which returns the key to keep), showing the server's refusal. */
  const attempt = (login: () => Promise<string>, minted: boolean) => async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onLogin(await login(), minted);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const withKey = attempt(async () => {
    await new Api(key.trim()).status();
    return key.trim();
  }, false);
  const withPassword = attempt(() => loginKey(basicAuthorization(user.trim(), password)), true);
  const withToken = attempt(() => loginKey(`Bearer ${token.trim()}`), true);

  return (
    <main className="login">
      <div className="card">
        <h1 id="login-title">
          <img src="/favicon.svg" alt="" width="28" height="28" /> cielo
        </h1>
        <form onSubmit={withKey} aria-label="Key login">
          {/* Password managers (and Chromium) expect a user name beside a password field. */}
          <input type="text" name="username" autoComplete="username" value="api-key" readOnly hidden />
          <Field
            id="api-key"
            label="API key"
            name="api-key"
            type="password"
            autoComplete="current-password"
            autoFocus
            aria-describedby="api-key-help"
            value={key}
            set={setKey}
          />
          <p id="api-key-help" className="muted small">
            Leave it empty for a server that needs no key (on loopback, without
            CIELO_SERVER_API_KEY).
          </p>
          <button type="submit" disabled={busy}>
            Log in
          </button>
        </form>
        {schemes.includes("basic") && (
          <form onSubmit={withPassword} aria-label="User login" className="login-other">
            <h2 className="small">Or with your user name and password</h2>
            <Field id="login-user" label="User name" name="user" autoComplete="username" autoCapitalize="none" value={user} set={setUser} />
            <Field
              id="login-password"
              label="Password"
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              set={setPassword}
            />
            <button type="submit" disabled={busy || !user.trim() || !password}>
              Log in with password
            </button>
          </form>
        )}
        {schemes.includes("bearer") && (
          <form onSubmit={withToken} aria-label="Single sign-on login" className="login-other">
            <h2 className="small">Or with a token from your facility's sign-on</h2>
            <Field id="login-token" label="Token" name="token" type="password" autoComplete="off" value={token} set={setToken} />
            <button type="submit" disabled={busy || !token.trim()}>
              Log in with token
            </button>
          </form>
        )}
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </div>
    </main>
  );
}
