// The queue page: the state of the RunEngine and the queue, the running item, queue and
// run controls, the editable queue, and the plan form.

import { Action } from "../components/Action";
import { PlanForm } from "../components/PlanForm";
import { QueueList } from "../components/QueueList";
import { describeItem } from "../components/describe";
import { useServer } from "../server";
import type { QueueItem } from "../types";

function RunControls() {
  const { api, status } = useServer();
  const re = status?.re_state;
  const running = re === "running";
  const paused = re === "paused";
  return (
    <div className="controls" role="group" aria-label="Run controls">
      <Action label="Pause" run={() => api.pause("deferred")} disabled={!running} title="Pause at the next checkpoint" />
      <Action label="Pause now" run={() => api.pause("immediate")} disabled={!running} title="Pause immediately" />
      <Action label="Resume" run={api.resume} disabled={!paused} />
      <Action
        label="Stop"
        run={api.stop}
        disabled={!paused}
        danger
        confirm="Stop the paused plan? Its run ends as successful, with the data taken so far."
      />
      <Action
        label="Abort"
        run={api.abort}
        disabled={!paused}
        danger
        confirm="Abort the paused plan? Its run ends as aborted."
      />
      <Action
        label="Halt"
        run={api.halt}
        disabled={!paused}
        danger
        confirm="Halt the paused plan? Nothing cleans up after it: devices stay where they are."
      />
    </div>
  );
}

function QueueControls() {
  const { api, status } = useServer();
  const idle = status?.manager_state === "idle";
  return (
    <div className="controls" role="group" aria-label="Queue controls">
      <Action label="Start queue" run={api.queueStart} disabled={!idle || !status?.worker_environment_exists} />
      {status?.queue_stop_pending ? (
        <Action label="Cancel stop" run={api.queueStopCancel} />
      ) : (
        <Action
          label="Stop queue"
          run={api.queueStop}
          disabled={idle}
          title="Stop the queue after the current item"
        />
      )}
    </div>
  );
}

function Running(props: { item: QueueItem | null }) {
  const { item } = props;
  if (!item) return <p className="muted">Nothing is running.</p>;
  return (
    <p className="running-item" data-uid={item.item_uid}>
      <strong>{item.name}</strong> <code>{describeItem(item)}</code>{" "}
      {item.user && <span className="muted">by {item.user}</span>}
    </p>
  );
}

export function QueuePage() {
  const { status, queue, plans, api } = useServer();
  const running = queue && "item_uid" in queue.running_item ? (queue.running_item as QueueItem) : null;
  return (
    <div className="page queue-page">
      <section aria-labelledby="state-title" className="card">
        <h2 id="state-title">State</h2>
        <dl className="state">
          <dt>Manager</dt>
          <dd data-testid="manager-state">{status?.manager_state ?? "…"}</dd>
          <dt>RunEngine</dt>
          <dd data-testid="re-state">{status?.re_state ?? "no environment"}</dd>
          <dt>Environment</dt>
          <dd>{status ? (status.worker_environment_exists ? "open" : "closed") : "…"}</dd>
          <dt>Queue / history</dt>
          <dd>
            {status?.items_in_queue ?? "…"} / {status?.items_in_history ?? "…"}
          </dd>
        </dl>
        <h3>Running</h3>
        <Running item={running} />
        <QueueControls />
        <RunControls />
      </section>
      <section aria-labelledby="queue-title" className="card">
        <h2 id="queue-title">Queue</h2>
        {queue ? <QueueList items={queue.items} /> : <p className="muted">Loading…</p>}
      </section>
      <section className="card">
        {plans ? (
          <PlanForm
            plans={plans.plans_allowed}
            onAdd={async (item, where) => {
              await api.addItem(item, where);
            }}
          />
        ) : (
          <p className="muted">Loading plans…</p>
        )}
      </section>
    </div>
  );
}
