// One queue item as a line of text: a plan as its call, a function marked as one, an
// instruction by what it does (the queue list, the running item, history, proposals).

import type { NewItem } from "../types";
import { describeItem } from "./describe";

/** What each instruction does, as the queue shows it. */
const INSTRUCTIONS: Record<string, { title: string; help: string }> = {
  queue_stop: { title: "Queue stop", help: "the queue stops when it reaches this item" },
};

export function ItemText(props: { item: NewItem }) {
  const { item } = props;
  if (item.item_type === "instruction") {
    const known = INSTRUCTIONS[item.name];
    return (
      <>
        <span className="kind instruction">instruction</span> <strong>{known?.title ?? item.name}</strong>{" "}
        {known && <span className="muted small">{known.help}</span>}
      </>
    );
  }
  return (
    <>
      {item.item_type === "function" && <span className="kind function">function</span>} <strong>{item.name}</strong>{" "}
      <code>{describeItem(item)}</code>
    </>
  );
}
