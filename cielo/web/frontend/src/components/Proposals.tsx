// Review mode: the proposed items, oldest first. A reviewer approves one into the queue
// or rejects it, with a note; a proposer may withdraw their own. A proposer cannot review
// their own proposal (the server refuses it, naming the rule).

import { useState } from "react";
import { useServer } from "../server";
import { Action } from "./Action";
import { ItemText } from "./ItemText";

export function ProposalList() {
  const { api, proposals, who, can } = useServer();
  const [notes, setNotes] = useState<Record<string, string>>({});
  const items = proposals?.items ?? [];
  const reviews = can("write:review");
  return (
    <section className="card proposals" aria-labelledby="proposals-title">
      <h2 id="proposals-title">Proposals</h2>
      {items.length === 0 ? (
        <p className="muted">No item is waiting for review.</p>
      ) : (
        <ol className="proposal-list" aria-label="Proposals">
          {items.map((item) => {
            const uid = item.item_uid;
            const note = notes[uid] ?? "";
            const own = who !== null && item.user === who.user;
            return (
              <li key={uid} data-uid={uid} className="proposal">
                <span className="summary">
                  <ItemText item={item} />{" "}
                  <span className="muted small">proposed by {item.user ?? "?"}</span>
                </span>
                {reviews && !own && (
                  <span className="row-actions">
                    <input
                      aria-label={`Note on ${item.name}`}
                      placeholder="note (optional)"
                      value={note}
                      onChange={(e) => setNotes((n) => ({ ...n, [uid]: e.target.value }))}
                    />
                    <Action label="Approve" run={() => api.approve(uid, note)} />
                    <Action label="Reject" danger run={() => api.reject(uid, note)} />
                  </span>
                )}
                {own && can("write:propose") && (
                  <span className="row-actions">
                    <Action label="Withdraw" run={() => api.withdraw(uid)} />
                  </span>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
