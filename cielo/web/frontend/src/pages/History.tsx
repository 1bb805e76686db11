// Executed items, newest first: exit status, times, who submitted them, their runs.

import { Action } from "../components/Action";
import { copyOf, describeItem, when } from "../components/describe";
import { useServer } from "../server";

export function HistoryPage() {
  const { api, history, can } = useServer();
  if (!history) return <p className="muted">Loading…</p>;
  const items = [...history.items].reverse();
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
          <div className="table-wrap">
            <table className="history">
              <thead>
                <tr>
                  <th scope="col">Plan</th>
                  <th scope="col">Status</th>
                  <th scope="col">Started</th>
                  <th scope="col">Ended</th>
                  <th scope="col">By</th>
                  <th scope="col">Runs</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((item) => {
                  const r = item.result;
                  return (
                    <tr key={item.item_uid} data-uid={item.item_uid}>
                      <td>
                        <strong>{item.name}</strong> <code>{describeItem(item)}</code>
                        {r?.msg && <div className="error small">{r.msg}</div>}
                      </td>
                      <td className={`exit ${r?.exit_status ?? ""}`}>{r?.exit_status ?? "?"}</td>
                      <td>{when(r?.time_start)}</td>
                      <td>{when(r?.time_stop)}</td>
                      <td>{item.user ?? ""}</td>
                      <td>
                        {(r?.run_uids ?? []).map((uid, i) => (
                          <code key={uid} title={uid} className="run-uid">
                            {r?.scan_ids?.[i] !== undefined ? `#${r.scan_ids[i]} ` : ""}
                            {uid.slice(0, 8)}
                          </code>
                        ))}
                      </td>
                      <td>
                        {can("write:queue:edit") && (
                          <Action label="Copy to queue" run={() => api.addItem(copyOf(item))} />
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
