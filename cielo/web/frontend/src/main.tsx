// cielo's web application: the login screen, then the pages, on top of the HTTP API.

import { StrictMode, Suspense, lazy, useCallback, useEffect, useMemo, useState } from "react";
import type { MouseEvent, ReactNode } from "react";
import { createRoot } from "react-dom/client";
import { Api } from "./api";
import { EnvironmentPage } from "./pages/Environment";
import { HistoryPage } from "./pages/History";
import { LoginPage } from "./pages/Login";
import { QueuePage } from "./pages/Queue";
import { navigate } from "./navigate";
import { ServerProvider, useServer } from "./server";
import "./styles.css";

const KEY_STORAGE = "cielo.apiKey";
/** Set while the key was made at a password or token login: logging out revokes it. */
const MINTED_STORAGE = "cielo.keyMinted";

// The catalog browser is loaded when first opened: the queue page is drawn sooner.
const RunsPage = lazy(() => import("./pages/Runs").then((m) => ({ default: m.RunsPage })));

const catalog = (uid?: string) => (
  <Suspense fallback={<p className="muted">Loading the catalog…</p>}>
    <RunsPage uid={uid} />
  </Suspense>
);

const PAGES: Record<string, { title: string; render: () => ReactNode }> = {
  "/": { title: "Queue", render: () => <QueuePage /> },
  "/history": { title: "History", render: () => <HistoryPage /> },
  "/runs": { title: "Catalog", render: () => catalog() },
  "/environment": { title: "Environment", render: () => <EnvironmentPage /> },
};

/** The page at `path`: one of PAGES, or a stored run's (`/runs/UID`, linked from history). */
function pageAt(path: string): { title: string; render: () => ReactNode } | undefined {
  const run = /^\/runs\/([^/]+)$/.exec(path);
  return PAGES[path] ?? (run ? { title: "Run", render: () => catalog(decodeURIComponent(run[1])) } : undefined);
}

/** The page shown follows the address bar (the server answers index.html for these paths). */
function usePath(): [string, (path: string) => void] {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const back = () => setPath(window.location.pathname);
    window.addEventListener("popstate", back);
    return () => window.removeEventListener("popstate", back);
  }, []);
  const go = useCallback((next: string) => navigate(next), []);
  return [path, go];
}

function Header(props: { path: string; go: (path: string) => void; onLogout: () => void }) {
  const { status, connectionError, who } = useServer();
  const link = (to: string) => (e: MouseEvent) => {
    e.preventDefault();
    props.go(to);
  };
  return (
    <header className="top">
      <span className="brand">
        <img src="/favicon.svg" alt="" width="22" height="22" /> cielo
      </span>
      <nav aria-label="Pages">
        {Object.entries(PAGES).map(([to, page]) => (
          <a
            key={to}
            href={to}
            onClick={link(to)}
            aria-current={props.path === to || (to === "/runs" && props.path.startsWith("/runs/")) ? "page" : undefined}
          >
            {page.title}
          </a>
        ))}
      </nav>
      <span className="badge" role="status" aria-live="polite">
        {connectionError ? (
          <span className="error">{connectionError}</span>
        ) : (
          <>
            {status?.manager_state ?? "connecting"}
            {status?.re_state ? ` · RE ${status.re_state}` : ""}
          </>
        )}
      </span>
      {who && (
        <span className="who" data-testid="who" title={who.scopes.join(" ")}>
          {who.user} · {who.roles.join(", ") || "custom scopes"}
        </span>
      )}
      <button type="button" className="link" onClick={props.onLogout}>
        Log out
      </button>
    </header>
  );
}

function App() {
  const [key, setKey] = useState<string | null>(() => sessionStorage.getItem(KEY_STORAGE));
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [path, go] = usePath();
  const api = useMemo(() => (key !== null ? new Api(key) : null), [key]);

  const login = (next: string, minted: boolean) => {
    sessionStorage.setItem(KEY_STORAGE, next);
    if (minted) sessionStorage.setItem(MINTED_STORAGE, "1");
    else sessionStorage.removeItem(MINTED_STORAGE);
    setNotice(undefined);
    setKey(next);
  };
  const logout = useCallback(() => {
    const old = sessionStorage.getItem(KEY_STORAGE);
    if (old && sessionStorage.getItem(MINTED_STORAGE)) {
      // The login's own key goes with it (its id: the first eight characters); one the
      // server no longer accepts needs nothing.
      new Api(old).revokeKey(old.slice(0, 8)).catch(() => undefined);
    }
    sessionStorage.removeItem(KEY_STORAGE);
    sessionStorage.removeItem(MINTED_STORAGE);
    setKey(null);
  }, []);
  const expired = useCallback(() => {
    setNotice("The server no longer accepts this API key (a login's key expires): log in again.");
    logout();
  }, [logout]);

  const page = useMemo(() => pageAt(path), [path]);
  useEffect(() => {
    document.title = `${key !== null ? (page?.title ?? "Not found") : "Log in"} · cielo`;
  }, [key, page]);

  if (!api) return <LoginPage onLogin={login} notice={notice} />;
  return (
    <ServerProvider api={api} onUnauthorized={expired}>
      <Header path={path} go={go} onLogout={logout} />
      <main id="content">
        {page ? (
          page.render()
        ) : (
          <p className="card">
            No page at <code>{path}</code>.
          </p>
        )}
      </main>
    </ServerProvider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
