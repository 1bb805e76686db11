import type { NewItem, QueueItem } from "../types";

/** A new item with the same plan and arguments (to duplicate or re-queue one). */
export function copyOf(item: QueueItem): NewItem {
  return { item_type: item.item_type, name: item.name, args: item.args ?? [], kwargs: item.kwargs ?? {} };
}

/** An item's arguments as one line, the way `cielo run` reads them: `det, num=5`. */
export function describeItem(item: Pick<QueueItem, "args" | "kwargs">): string {
  const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const args = (item.args ?? []).map(show);
  const kwargs = Object.entries(item.kwargs ?? {}).map(([k, v]) => `${k}=${show(v)}`);
  return [...args, ...kwargs].join(", ");
}

/** Seconds since the epoch as local date and time ("" when absent). */
export function when(seconds: number | undefined): string {
  return seconds ? new Date(seconds * 1000).toLocaleString() : "";
}
