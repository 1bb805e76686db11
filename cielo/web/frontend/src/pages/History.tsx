// Executed items, newest first: exit status, times, who submitted them, their runs.

import { Action } from "../components/Action";
import { ItemText } from "../components/ItemText";
import { copyOf, when } from "../components/describe";
import { Table, type Column } from "../components/Table";
import { follow, runPath } from "../navigate";
import { useServer } from "../server";
import type { QueueItem } from "../types";

export function HistoryPage() {
  const { api, history, can } = useServer();
  if (!history) return <p className="muted">Loading…</p>;
  const items = [...history.items].reverse();
  const columns: Column<QueueItem>[] = [
    {
      header: "Item",
      cell: (item) => (
        <>
          <ItemText item={item} />
          {item.item_type === "function" && item.result?.exit_status === "completed" && (
            <div className="small">
              returned <code>{JSON.stringify(item.result.return_value ?? null)}</code>
            </div>
          )}
          {item.result?.msg && <div className="error small">{item.result.msg}</div>}
        </>
      ),
    },
    {
      header: "Status",
      cell: (item) => item.result?.exit_status ?? "?",
      className: (item) => `exit ${item.result?.exit_status ?? ""}`,
    },
    { header: "Started", cell: (item) => when(item.result?.time_start) },
    { header: "Ended", cell: (item) => when(item.result?.time_stop) },
    { header: "By", cell: (item) => item.user ?? "" },
    {
      header: "Runs",
      cell: (item) =>
        (item.result?.run_uids ?? []).map((uid, i) => (
          <a key={uid} href={runPath(uid)} onClick={follow(runPath(uid))} className="run-link">
            <code title={uid} className="run-uid">
              {item.result?.scan_ids?.[i] !== undefined ? `#${item.result.scan_ids[i]} ` : ""}
              {uid.slice(0, 8)}
            </code>
          </a>
        )),
    },
    {
      header: <span className="visually-hidden">Actions</span>,
      cell: (item) =>
        can("write:queue:edit") && <Action label="Copy to queue" run={() => api.addItem(copyOf(item))} />,
    },
  ];
  return (
    <div className="page">
      <section className="card" aria-labelledby="history-title">
        <div className="row">
          <h2 id="history-title">History</h2>
          {can("write:history:edit") && (
          <Action
            label="Clear history"
            run={api.historyClear}
            disabled={items.length === 0}
            confirm="Clear the history of executed items? Their runs stay in the catalog."
          />
          )}
        </div>
        {items.length === 0 ? (
          <p className="muted">No item has run yet.</p>
        ) : (
          <Table className="history" rows={items} columns={columns} rowKey={(item) => item.item_uid} />
        )}
      </section>
    </div>
  );
}
