// The queue page: the state of the RunEngine and the queue, the running item, queue and
// run controls, the editable queue, and the plan form.

import { Suspense, lazy, useEffect, useState } from "react";
import { errorText } from "../api";
import { Action } from "../components/Action";
import { Console } from "../components/Console";
import { LivePlot } from "../components/LivePlot";
import { ProposalList } from "../components/Proposals";
import { ItemText } from "../components/ItemText";
import { QueueList } from "../components/QueueList";
import { useServer } from "../server";
import type { PlanQueueMode, QueueItem } from "../types";

// The form library and its validator are most of the code: loaded after the page is drawn.
const PlanForm = lazy(() => import("../components/PlanForm").then((m) => ({ default: m.PlanForm })));
const FunctionForm = lazy(() => import("../components/FunctionForm").then((m) => ({ default: m.FunctionForm })));

function RunControls() {
  const { api, status, can } = useServer();
  if (!can("write:plan:control")) return null;
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

function QueueModes() {
  const { api, status, refresh, can } = useServer();
  const allowed = can("write:queue:control");
  const server = status?.plan_queue_mode;
  // What the user just chose shows at once; the server's next status confirms or undoes it.
  const [chosen, setChosen] = useState<Partial<PlanQueueMode>>({});
  useEffect(() => setChosen({}), [server?.loop, server?.ignore_failures]);
  const mode = server ? { ...server, ...chosen } : undefined;
  const [error, setError] = useState<string | null>(null);
  const set = (key: keyof PlanQueueMode, on: boolean) => {
    setError(null);
    setChosen((c) => ({ ...c, [key]: on }));
    api
      .setMode({ [key]: on })
      .catch((err) => {
        setChosen({});
        setError(errorText(err));
      })
      .finally(refresh);
  };
  const box = (key: keyof PlanQueueMode, label: string, help: string) => (
    <label className="mode" title={help}>
      <input type="checkbox" checked={mode?.[key] ?? false} disabled={!mode || !allowed} onChange={(e) => set(key, e.target.checked)} />{" "}
      {label}
    </label>
  );
  return (
    <div className="controls modes" role="group" aria-label="Queue modes">
      {box("loop", "Loop", "Finished items go back to the end of the queue")}
      {box("ignore_failures", "Ignore failures", "A failed item does not stop the queue")}
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </div>
  );
}

function QueueControls() {
  const { api, status, can } = useServer();
  if (!can("write:queue:control")) return null;
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
      <ItemText item={item} /> {item.user && <span className="muted">by {item.user}</span>}
    </p>
  );
}

/** Add an instruction to the queue: `queue_stop` stops the queue when it reaches it. */
function AddInstruction() {
  const { api, can } = useServer();
  if (!can("write:queue:edit")) return null;
  return (
    <div className="controls" role="group" aria-label="Queue instructions">
      <Action
        label="Add queue stop"
        run={() => api.addItem({ item_type: "instruction", name: "queue_stop" })}
        title="The queue stops when it reaches this item (at the back of the queue)"
      />
    </div>
  );
}

export function QueuePage() {
  const { status, queue, plans, functions, proposals, can } = useServer();
  const adds = can("write:queue:edit") || can("write:propose");
  // Functions are added by those who edit the queue, run at once by those who execute.
  const runsFunctions = can("write:queue:edit") || can("write:execute");
  const reviewing = (proposals?.items.length ?? 0) > 0 || can("write:review") || can("write:propose");
  const running = queue && "item_uid" in queue.running_item ? (queue.running_item as QueueItem) : null;
  const [editing, setEditing] = useState<QueueItem | null>(null);
  useEffect(() => {
    // The item being edited left the queue (it ran, or someone removed it).
    if (editing && queue && !queue.items.some((i) => i.item_uid === editing.item_uid)) setEditing(null);
  }, [editing, queue]);
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
        <QueueModes />
        <RunControls />
      </section>
      <section aria-labelledby="queue-title" className="card">
        <h2 id="queue-title">Queue</h2>
        {queue ? <QueueList items={queue.items} onEdit={setEditing} /> : <p className="muted">Loading…</p>}
        <AddInstruction />
      </section>
      {reviewing && <ProposalList />}
      <LivePlot />
      <Console />
      {adds && (
      <section className="card">
        {plans ? (
          <Suspense fallback={<p className="muted">Loading the plan form…</p>}>
          <PlanForm
            key={editing?.item_uid ?? "new"}
            plans={plans.plans_allowed}
            editing={editing}
            onDone={() => setEditing(null)}
          />
          </Suspense>
        ) : (
          <p className="muted">Loading plans…</p>
        )}
      </section>
      )}
      {runsFunctions && functions && Object.keys(functions.functions_allowed).length > 0 && (
        <section className="card">
          <Suspense fallback={<p className="muted">Loading the function form…</p>}>
            <FunctionForm functions={functions.functions_allowed} />
          </Suspense>
        </section>
      )}
    </div>
  );
}
