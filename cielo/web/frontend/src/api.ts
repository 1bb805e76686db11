// The typed client of cielo's HTTP API (bluesky-httpserver's paths and payloads).
//
// Every request carries `Authorization: ApiKey KEY`. A refusal is HTTP 200 with
// `{"success": false, "msg": ...}`: the client raises `Refused` with the server's message,
// so pages show the server's words. A missing or wrong key is HTTP 401 (`Unauthorized`).

import type {
  DevicesAllowed,
  HistoryGet,
  NewItem,
  PauseOption,
  PlanQueueMode,
  PlansAllowed,
  Position,
  QueueGet,
  QueueItem,
  Status,
} from "./types";

/** The server answered `success: false`; `message` is the server's own text. */
export class Refused extends Error {
  readonly name = "Refused";
}

/** The server did not accept the API key (HTTP 401 or 403). */
export class Unauthorized extends Error {
  readonly name = "Unauthorized";
}

/** Any other failure: HTTP error status, network error, or a body that is not JSON. */
export class ApiError extends Error {
  readonly name = "ApiError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

type Body = Record<string, unknown>;

export class Api {
  constructor(
    private readonly key: string,
    private readonly base = "",
  ) {}

  async request<T>(method: "GET" | "POST", path: string, body?: Body): Promise<T> {
    // An empty key: a server that lets anonymous clients in (loopback, no key configured).
    const headers: Record<string, string> = this.key ? { Authorization: `ApiKey ${this.key}` } : {};
    const init: RequestInit = { method, headers };
    if (method === "POST") {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body ?? {});
    }
    let response: Response;
    try {
      response = await fetch(`${this.base}/api${path}`, init);
    } catch (err) {
      throw new ApiError(`cannot reach the server: ${String(err)}`, 0);
    }
    const data = (await response.json().catch(() => null)) as Body | null;
    if (response.status === 401 || response.status === 403) {
      throw new Unauthorized(detail(data) ?? "the server did not accept this API key");
    }
    if (!response.ok || data === null) {
      const text = detail(data) ?? response.statusText;
      throw new ApiError(`${method} /api${path}: HTTP ${response.status}: ${text}`, response.status);
    }
    if (data.success === false) {
      throw new Refused(String(data.msg ?? "refused by the server"));
    }
    return data as T;
  }

  /** The websocket address of a live feed (`/status/ws`...); the key rides in the query,
   * since a browser cannot set headers on a websocket. */
  feedUrl(path: string): string {
    const origin = this.base || window.location.origin;
    const url = new URL(`${origin}/api${path}`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (this.key) url.searchParams.set("api_key", this.key);
    return url.toString();
  }

  status = () => this.request<Status>("GET", "/status");
  queue = () => this.request<QueueGet>("GET", "/queue/get");
  history = () => this.request<HistoryGet>("GET", "/history/get");
  historyClear = () => this.request("POST", "/history/clear");
  plansAllowed = () => this.request<PlansAllowed>("GET", "/plans/allowed");
  devicesAllowed = () => this.request<DevicesAllowed>("GET", "/devices/allowed");

  addItem = (item: NewItem, where: Position = {}) =>
    this.request<{ item: QueueItem; qsize: number }>("POST", "/queue/item/add", { item, ...where });
  moveItem = (uid: string, where: { before_uid?: string; after_uid?: string; pos_dest?: number | string }) =>
    this.request<{ item: QueueItem }>("POST", "/queue/item/move", { uid, ...where });
  removeItem = (uid: string) => this.request<{ item: QueueItem }>("POST", "/queue/item/remove", { uid });
  /** Change a queued item in place: same uid, new name, args or kwargs. */
  updateItem = (item: NewItem & { item_uid: string }) =>
    this.request<{ item: QueueItem }>("POST", "/queue/item/update", { item });
  setMode = (mode: Partial<PlanQueueMode>) => this.request("POST", "/queue/mode/set", { mode });

  queueStart = () => this.request("POST", "/queue/start");
  queueStop = () => this.request("POST", "/queue/stop");
  queueStopCancel = () => this.request("POST", "/queue/stop/cancel");

  pause = (option: PauseOption) => this.request("POST", "/re/pause", { option });
  resume = () => this.request("POST", "/re/resume");
  stop = () => this.request("POST", "/re/stop");
  abort = () => this.request("POST", "/re/abort");
  halt = () => this.request("POST", "/re/halt");

  environmentOpen = () => this.request("POST", "/environment/open");
  environmentClose = () => this.request("POST", "/environment/close");
  environmentDestroy = () => this.request("POST", "/environment/destroy");
}

function detail(data: Body | null): string | undefined {
  if (!data) return undefined;
  const d = data.detail ?? data.msg;
  if (typeof d === "string") return d;
  return d === undefined ? undefined : JSON.stringify(d);
}

/** The message to show for any error a request raised. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
