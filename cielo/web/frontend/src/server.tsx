// The server's state as the pages see it: the status pushed over /api/status/ws (asked
// for every STATUS_PERIOD_MS while that feed is down), and the queue, history and
// plan/device lists re-fetched only when their change counter in the status changes.

import { createContext, useCallback, useContext, useEffect, useRef, useState } from "react";
import type { ReactNode } from "react";
import { Api, Unauthorized, closeFeed, errorText } from "./api";
import type {
  DevicesAllowed,
  FunctionsAllowed,
  HistoryGet,
  PlansAllowed,
  Proposals,
  QueueGet,
  Status,
  WhoAmI,
} from "./types";

/** How often the status is asked for (ms) while no pushed status arrives. */
export const STATUS_PERIOD_MS = 500;
/** While the status is pushed, it is still asked for this often (ms), as a safety net. */
export const PUSHED_PERIOD_MS = 10_000;
/** Wait this long (ms) before opening the status feed again after it closed. */
const RECONNECT_MS = 2_000;

export interface ServerState {
  api: Api;
  status: Status | null;
  queue: QueueGet | null;
  history: HistoryGet | null;
  plans: PlansAllowed | null;
  devices: DevicesAllowed | null;
  /** The functions the caller's group may run (the profile's `[functions] allow`). */
  functions: FunctionsAllowed | null;
  proposals: Proposals | null;
  /** Who the key belongs to (null until known, or from a server without whoami). */
  who: WhoAmI | null;
  /** Whether the caller holds `scope` (while unknown: no, so nothing flashes enabled). */
  can: (scope: string) => boolean;
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

type Counter =
  | "plan_queue_uid"
  | "plan_history_uid"
  | "plans_allowed_uid"
  | "devices_allowed_uid"
  | "functions_allowed_uid"
  | "proposed_uid";

export function ServerProvider(props: { api: Api; onUnauthorized: () => void; children: ReactNode }) {
  const { api, onUnauthorized } = props;
  const [status, setStatus] = useState<Status | null>(null);
  const [queue, setQueue] = useState<QueueGet | null>(null);
  const [history, setHistory] = useState<HistoryGet | null>(null);
  const [plans, setPlans] = useState<PlansAllowed | null>(null);
  const [devices, setDevices] = useState<DevicesAllowed | null>(null);
  const [functions, setFunctions] = useState<FunctionsAllowed | null>(null);
  const [proposals, setProposals] = useState<Proposals | null>(null);
  const [who, setWho] = useState<WhoAmI | null>(null);
  const [whoKnown, setWhoKnown] = useState(false);
  const [connectionError, setConnectionError] = useState<string | null>(null);
  const seen = useRef<Partial<Record<Counter, string>>>({});
  const wake = useRef<() => void>(() => {});

  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    let inFlight = false;
    let again = false;
    // Each loader keeps the counter its own answer carries, so a change between the
    // status and the fetch is caught at the next status.
    const loaders: Record<Counter, () => Promise<string>> = {
      plan_queue_uid: async () => {
        const q = await api.queue();
        if (!stopped) setQueue(q);
        return q.plan_queue_uid;
      },
      plan_history_uid: async () => {
        const h = await api.history();
        if (!stopped) setHistory(h);
        return h.plan_history_uid;
      },
      plans_allowed_uid: async () => {
        const p = await api.plansAllowed();
        if (!stopped) setPlans(p);
        return p.plans_allowed_uid;
      },
      devices_allowed_uid: async () => {
        const d = await api.devicesAllowed();
        if (!stopped) setDevices(d);
        return d.devices_allowed_uid;
      },
      functions_allowed_uid: async () => {
        const f = await api.functionsAllowed();
        if (!stopped) setFunctions(f);
        return f.functions_allowed_uid;
      },
      proposed_uid: async () => {
        const p = await api.proposals();
        if (!stopped) setProposals(p);
        return p.proposed_uid;
      },
    };
    // Who is asking: once per key (a server without /auth/whoami: every control shown,
    // the server still refuses what the key may not do).
    api
      .whoami()
      .then((w) => !stopped && setWho(w))
      .catch((err) => {
        if (err instanceof Unauthorized) return; // the status round logs out
      })
      .finally(() => !stopped && setWhoKnown(true));
    const counters = Object.keys(loaders) as Counter[];
    const load = async (counter: Counter) => {
      seen.current[counter] = await loaders[counter]();
    };
    const loadStatus = async () => {
      const s = await api.status();
      if (!stopped) {
        setStatus(s);
        setConnectionError(null);
      }
      return s;
    };
    const follow = (s: Status) =>
      Promise.all(counters.filter((c) => !stopped && seen.current[c] !== s[c]).map(load));

    // The pushed status: each message is a whole status, sent at once and on every change.
    let socket: WebSocket | null = null;
    let pushed = false;
    let reconnect: number | undefined;
    const connect = () => {
      if (stopped) return;
      socket = api.openFeed("/status/ws");
      socket.onmessage = (event) => {
        const s = JSON.parse(String(event.data)) as Status;
        if (stopped || typeof s.manager_state !== "string") return;
        if (!pushed && !inFlight) {
          // The feed is up: the poll timed for a feed that was down waits the longer period.
          window.clearTimeout(timer);
          timer = window.setTimeout(tick, PUSHED_PERIOD_MS);
        }
        pushed = true;
        setStatus(s);
        setConnectionError(null);
        follow(s).catch((err) => setConnectionError(errorText(err)));
      };
      socket.onclose = (event) => {
        pushed = false;
        if (stopped) return;
        if (event.code === 4401) {
          stopped = true;
          onUnauthorized();
          return;
        }
        void tick(); // polled again until the feed is back
        reconnect = window.setTimeout(connect, RECONNECT_MS);
      };
    };
    const tick = async () => {
      if (inFlight) {
        again = true; // one more round right after this one, never two loops
        return;
      }
      inFlight = true;
      window.clearTimeout(timer);
      try {
        if (counters.some((c) => seen.current[c] === undefined)) {
          // The first round asks for everything at once: the page is drawn one round trip sooner.
          await Promise.all([loadStatus(), ...counters.filter((c) => seen.current[c] === undefined).map(load)]);
        } else {
          await follow(await loadStatus());
        }
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
        timer = window.setTimeout(tick, pushed ? PUSHED_PERIOD_MS : STATUS_PERIOD_MS);
      }
    };
    wake.current = () => void tick();
    void tick();
    connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      window.clearTimeout(reconnect);
      if (socket) closeFeed(socket);
    };
  }, [api, onUnauthorized]);

  const refresh = useCallback(() => wake.current(), []);
  const can = useCallback(
    (scope: string) => (who ? who.scopes.includes(scope) : whoKnown),
    [who, whoKnown],
  );
  const value: ServerState = {
    api,
    status,
    queue,
    history,
    plans,
    devices,
    functions,
    proposals,
    who,
    can,
    connectionError,
    refresh,
  };
  return <ServerContext.Provider value={value}>{props.children}</ServerContext.Provider>;
}
