// Moving between the application's pages without reloading: the address bar changes and
// the page shown follows it (main.tsx listens for popstate, which this sends too).

import type { MouseEvent } from "react";

/** Show the page at `path` (its address in the bar; Back returns). */
export function navigate(path: string): void {
  window.history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/** An `<a href>`'s click that stays in the application (a new tab still opens one). */
export function follow(path: string) {
  return (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(path);
  };
}

/** The address of a stored run's page in the catalog browser. */
export const runPath = (uid: string) => `/runs/${encodeURIComponent(uid)}`;
