// The worker environment (the loaded profile): open, close, destroy a stuck worker.

import { useState } from "react";
import { Action } from "../components/Action";
import { useServer } from "../server";

export function EnvironmentPage() {
  const { api, status, devices, can } = useServer();
  const [reloaded, setReloaded] = useState<string[] | null>(null);
  const reload = async () => {
    setReloaded(null);
    const answer = await api.environmentReload();
    setReloaded(answer.stale ?? []);
  };
  const lock = status?.lock as { environment?: boolean; queue?: boolean } | undefined;
  const locked = [lock?.environment && "environment", lock?.queue && "queue"].filter(Boolean);
  const exists = status?.worker_environment_exists ?? false;
  // Who holds the instrument's lock: this server's worker, or another runner keeping it.
  const holder = status?.instrument_lock;
  const all = Object.keys(devices?.devices_allowed ?? {}).sort();
  const names = all.filter((n) => !n.includes("."));
  const parts = (name: string) => all.filter((n) => n.startsWith(`${name}.`)).length;
  return (
    <div className="page">
      <section className="card" aria-labelledby="env-title">
        <h2 id="env-title">Environment</h2>
        <dl className="state">
          <dt>Environment</dt>
          <dd data-testid="env-state">{status ? (exists ? "open" : "closed") : "…"}</dd>
          <dt>Worker</dt>
          <dd>{status?.worker_environment_state ?? "…"}</dd>
          <dt>Manager</dt>
          <dd>{status?.manager_state ?? "…"}</dd>
          <dt>Worker pid</dt>
          <dd data-testid="worker-pid">{String(status?.worker_pid ?? "")}</dd>
          <dt>Queue lock</dt>
          <dd data-testid="lock">{status ? (locked.length ? `${locked.join(" and ")} locked` : "not locked") : "…"}</dd>
          <dt>Instrument</dt>
          <dd data-testid="instrument-lock">
            {status ? (holder ? `held by ${holder.text}` : "free") : "…"}
          </dd>
        </dl>
        {!exists && status?.worker_environment_error ? (
          <p className="error" data-testid="env-error">
            {String(status.worker_environment_error)}
          </p>
        ) : null}
        {can("write:manager:control") && (
        <div className="controls" role="group" aria-label="Environment controls">
          <Action label="Open" run={api.environmentOpen} disabled={exists} />
          <Action
            label="Close"
            run={api.environmentClose}
            disabled={!exists}
            confirm="Close the environment? The queue is kept; nothing can run until it is opened again."
          />
          <Action
            label="Reload"
            run={reload}
            disabled={!exists || status?.manager_state !== "idle"}
            confirm="Reload the environment? The worker is closed, the profile and its plugins are read again, and it reopens; the queue is kept."
          />
          <Action
            label="Destroy"
            run={api.environmentDestroy}
            disabled={!exists}
            danger
            confirm="Destroy the environment? The worker process is killed, with whatever it is running."
          />
        </div>
        )}
        {reloaded && (
          <div role="status" className="ok">
            {reloaded.length === 0
              ? "Reloaded: every queued item fits the reloaded plans."
              : `Reloaded: ${reloaded.length} queued item(s) no longer fit: ${reloaded.join("; ")}`}
          </div>
        )}
      </section>
      <section className="card" aria-labelledby="devices-title">
        <h2 id="devices-title">Devices</h2>
        {names.length === 0 ? (
          <p className="muted">No devices (the environment is closed, or the profile has none).</p>
        ) : (
          <ul className="devices">
            {names.map((n) => (
              <li key={n}>
                <code>{n}</code> {parts(n) > 0 && <span className="muted small">+{parts(n)} components</span>}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
