// The server's state as the pages see it: one status loop, and the queue, history and
// plan/device lists re-fetched only when their change counter in /api/status changes.

import { createContext, useCallback, useContext, useEffect, useRef, useState } from "react";
import type { ReactNode } from "react";
import { Api, Unauthorized, errorText } from "./api";
import type { DevicesAllowed, HistoryGet, PlansAllowed, QueueGet, Status } from "./types";

/** How often the status is asked for (ms); every other request follows a counter change. */
export const STATUS_PERIOD_MS = 500;

export interface ServerState {
  api: Api;
  status: Status | null;
  queue: QueueGet | null;
  history: HistoryGet | null;
  plans: PlansAllowed | null;
  devices: DevicesAllowed | null;
  /** Why the last status request failed (null while the server answers). */
  connectionError: string | null;
  /** Ask for the status now (after an action), instead of at the next tick. */
  refresh: () => void;
}

const ServerContext = createContext<ServerState | null>(null);

export function useServer(): ServerState {
  const state = useContext(ServerContext);
  if (!state) throw new Error("useServer() outside <ServerProvider>");
  return state;
}

type Counter = "plan_queue_uid" | "plan_history_uid" | "plans_allowed_uid" | "devices_allowed_uid";

export function ServerProvider(props: { api: Api; onUnauthorized: () => void; children: ReactNode }) {
  const { api, onUnauthorized } = props;
  const [status, setStatus] = useState<Status | null>(null);
  const [queue, setQueue] = useState<QueueGet | null>(null);
  const [history, setHistory] = useState<HistoryGet | null>(null);
  const [plans, setPlans] = useState<PlansAllowed | null>(null);
  const [devices, setDevices] = useState<DevicesAllowed | null>(null);
  const [connectionError, setConnectionError] = useState<string | null>(null);
  const seen = useRef<Partial<Record<Counter, string>>>({});
  const wake = useRef<() => void>(() => {});

  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    let inFlight = false;
    let again = false;
    const follow = async (s: Status, counter: Counter, load: () => Promise<void>) => {
      if (seen.current[counter] === s[counter]) return;
      await load();
      seen.current[counter] = s[counter];
    };
    const tick = async () => {
      if (inFlight) {
        again = true; // one more round right after this one, never two loops
        return;
      }
      inFlight = true;
      window.clearTimeout(timer);
      try {
        const s = await api.status();
        if (stopped) return;
        setStatus(s);
        setConnectionError(null);
        await Promise.all([
          follow(s, "plan_queue_uid", async () => setQueue(await api.queue())),
          follow(s, "plan_history_uid", async () => setHistory(await api.history())),
          follow(s, "plans_allowed_uid", async () => setPlans(await api.plansAllowed())),
          follow(s, "devices_allowed_uid", async () => setDevices(await api.devicesAllowed())),
        ]);
      } catch (err) {
        if (err instanceof Unauthorized) {
          stopped = true;
          onUnauthorized();
        } else if (!stopped) {
          setConnectionError(errorText(err));
        }
      }
      inFlight = false;
      if (stopped) return;
      if (again) {
        again = false;
        void tick();
      } else {
        timer = window.setTimeout(tick, STATUS_PERIOD_MS);
      }
    };
    wake.current = () => void tick();
    void tick();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [api, onUnauthorized]);

  const refresh = useCallback(() => wake.current(), []);
  const value: ServerState = { api, status, queue, history, plans, devices, connectionError, refresh };
  return <ServerContext.Provider value={value}>{props.children}</ServerContext.Provider>;
}
