// The typed client of cielo's HTTP API (bluesky-httpserver's paths and payloads).
//
// Every request carries `Authorization: ApiKey KEY`. A refusal is HTTP 200 with
// `{"success": false, "msg": ...}`: the client raises `Refused` with the server's message,
// so pages show the server's words. A missing or wrong key is HTTP 401 (`Unauthorized`).

import type {
  DevicesAllowed,
  FunctionsAllowed,
  HistoryGet,
  NewItem,
  PauseOption,
  PeakStats,
  PlanQueueMode,
  PlansAllowed,
  Position,
  Proposals,
  QueueGet,
  QueueItem,
  RunFound,
  RunMetadata,
  RunSearch,
  Status,
  StreamColumns,
  TaskResult,
  WhoAmI,
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
    /** Another `Authorization` header (`Basic ...`, `Bearer ...`) sent instead of the key. */
    private readonly authorization?: string,
  ) {}

  /** The headers every request carries (none with an empty key: a server that lets
   * anonymous clients in, on loopback without a key configured). */
  private auth(): Record<string, string> {
    if (this.authorization) return { Authorization: this.authorization };
    return this.key ? { Authorization: `ApiKey ${this.key}` } : {};
  }

  async request<T>(method: "GET" | "POST" | "DELETE", path: string, body?: Body): Promise<T> {
    const headers = this.auth();
    const init: RequestInit = { method, headers };
    if (method === "POST") {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body ?? {});
    }
    let response: Response;
    try {
      const early = method === "GET" && !this.base && !this.authorization ? takeEarly(this.key, path) : undefined;
      response = await (early?.catch(() => fetch(`/api${path}`, init)) ?? fetch(`${this.base}/api${path}`, init));
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

  /** A live feed (`/status/ws`...). A browser cannot set a websocket's headers: the key
   * rides in a subprotocol (`cielo.apikey.KEY`, beside `cielo`, which the server chooses),
   * never in the URL, which proxies and servers log. */
  openFeed(path: string): WebSocket {
    const origin = this.base || window.location.origin;
    const url = new URL(`${origin}/api${path}`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (!this.key) return new WebSocket(url);
    if (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(this.key)) {
      return new WebSocket(url, ["cielo", `cielo.apikey.${this.key}`]);
    }
    // A key with characters a subprotocol cannot carry goes in the query, as before.
    url.searchParams.set("api_key", this.key);
    return new WebSocket(url);
  }

  status = () => this.request<Status>("GET", "/status");
  whoami = () => this.request<WhoAmI>("GET", "/auth/whoami");
  /** A new API key of the caller, of `roles`, expiring in `seconds`: its secret, shown once. */
  makeKey = (roles: string[], seconds: number, note: string) =>
    this.request<{ secret: string; key: { id: string } }>("POST", "/auth/apikey", {
      roles,
      expires_in: seconds,
      note,
    });
  /** Revoke the caller's key whose id (first eight characters) is `id`. */
  revokeKey = (id: string) => this.request("DELETE", `/auth/apikey?first_eight=${encodeURIComponent(id)}`);
  proposals = () => this.request<Proposals>("GET", "/proposals/get");
  propose = (item: NewItem) => this.request<{ item: QueueItem }>("POST", "/proposals/add", { item });
  approve = (uid: string, note = "") => this.request("POST", "/proposals/approve", { uid, note });
  reject = (uid: string, note = "") => this.request("POST", "/proposals/reject", { uid, note });
  withdraw = (uid: string) => this.request("POST", "/proposals/remove", { uid });
  queue = () => this.request<QueueGet>("GET", "/queue/get");
  history = () => this.request<HistoryGet>("GET", "/history/get");
  historyClear = () => this.request("POST", "/history/clear");
  plansAllowed = () => this.request<PlansAllowed>("GET", "/plans/allowed");
  devicesAllowed = () => this.request<DevicesAllowed>("GET", "/devices/allowed");
  functionsAllowed = () => this.request<FunctionsAllowed>("GET", "/functions/allowed");
  /** Run a function item now, outside the queue: its `task_uid` for `taskResult`. */
  executeFunction = (item: NewItem) =>
    this.request<{ item: QueueItem; task_uid: string }>("POST", "/function/execute", { item });
  taskResult = (taskUid: string) => this.request<TaskResult>("POST", "/task/result", { task_uid: taskUid });

  /** Check an item as adding it would, and by its plan's own form check, queueing nothing. */
  checkItem = (item: NewItem) =>
    this.request<{ summary?: { text?: string; [key: string]: unknown } }>("POST", "/plans/check", { item });
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

  /** A page of stored runs matching the search fields (empty fields are left out). */
  searchRuns = (search: RunSearch) => {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(search)) if (v !== "" && v !== undefined) query.set(k, String(v));
    return this.request<RunFound>("GET", `/runs/search?${query}`);
  };
  run = (uid: string) => this.request<RunMetadata>("GET", `/runs/${encodeURIComponent(uid)}`);
  streamColumns = (uid: string, stream: string) =>
    this.request<StreamColumns>("GET", `/runs/${encodeURIComponent(uid)}/streams/${encodeURIComponent(stream)}`);
  suitcases = () => this.request<{ suitcases: string[] }>("GET", "/runs/suitcases");
  /** Peak statistics of `y` against `x` over the points of a stream stored so far. */
  peakStats = (uid: string, stream: string, x: string, y: string) =>
    this.request<PeakStats>(
      "GET",
      `/runs/${encodeURIComponent(uid)}/streams/${encodeURIComponent(stream)}/peak_stats?${new URLSearchParams({ x, y })}`,
    );

  /** Frame `seq` (default: the last stored) of array `key` of a run's stream, as the
   * server sends it: raw little-endian values with their dtype and shape in headers. A
   * frame not stored yet is `Refused` (the server's `stored` says how far it got). */
  async frame(uid: string, stream: string, key: string, seq?: number): Promise<Frame> {
    const path = `/runs/${encodeURIComponent(uid)}/streams/${encodeURIComponent(stream)}/frames/${encodeURIComponent(key)}`;
    let response: Response;
    try {
      response = await fetch(`${this.base}/api${path}${seq ? `?seq_num=${seq}` : ""}`, { headers: this.auth() });
    } catch (err) {
      throw new ApiError(`cannot reach the server: ${String(err)}`, 0);
    }
    if (response.status === 401 || response.status === 403) throw new Unauthorized("the server did not accept this API key");
    if ((response.headers.get("content-type") ?? "").startsWith("application/json")) {
      const data = (await response.json()) as Body;
      throw new Refused(String(data.msg ?? detail(data) ?? "refused by the server"));
    }
    if (!response.ok) throw new ApiError(`GET /api${path}: HTTP ${response.status}`, response.status);
    const dtype = response.headers.get("x-cielo-dtype") ?? "";
    const shape = (response.headers.get("x-cielo-shape") ?? "").split(",").map(Number);
    const View = TYPED[dtype.slice(1)];
    if (!View) throw new ApiError(`GET /api${path}: a frame of dtype ${dtype} cannot be drawn`, response.status);
    return { seq: Number(response.headers.get("x-cielo-seq-num")), dtype, shape, values: new View(await response.arrayBuffer()) };
  }

  /** A run written by the suitcase `format`: the file's bytes and the name the server gave it. */
  async exportRun(uid: string, format: string): Promise<{ blob: Blob; filename: string }> {
    const path = `/runs/${encodeURIComponent(uid)}/export/${encodeURIComponent(format)}`;
    let response: Response;
    try {
      response = await fetch(`${this.base}/api${path}`, { headers: this.auth() });
    } catch (err) {
      throw new ApiError(`cannot reach the server: ${String(err)}`, 0);
    }
    if (response.status === 401 || response.status === 403) throw new Unauthorized("the server did not accept this API key");
    if ((response.headers.get("content-type") ?? "").startsWith("application/json")) {
      const data = (await response.json()) as Body;
      throw new Refused(String(data.msg ?? detail(data) ?? "refused by the server"));
    }
    if (!response.ok) throw new ApiError(`GET /api${path}: HTTP ${response.status}`, response.status);
    const disposition = response.headers.get("content-disposition") ?? "";
    const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
    const filename = match ? decodeURIComponent(match[1]) : `${uid.slice(0, 8)}.${format}`;
    return { blob: await response.blob(), filename };
  }

  environmentOpen = () => this.request("POST", "/environment/open");
  environmentClose = () => this.request("POST", "/environment/close");
  /** Close the worker, read the profile and its plugins again, reopen; `stale`: queued
   * items that no longer fit the new plans. */
  environmentReload = () => this.request<{ stale?: string[] }>("POST", "/environment/reload");
  environmentDestroy = () => this.request("POST", "/environment/destroy");
}

/** How long (s) a key made at a password or token login lasts: a working day. The page
 * logs out when it expires; logging out revokes it sooner. */
export const LOGIN_KEY_SECONDS = 12 * 3600;

/** The `Authorization` schemes the server takes (`/api/auth/schemes`: "apikey", "basic",
 * "bearer"); only "apikey" from a server that does not say. */
export async function loginSchemes(): Promise<string[]> {
  try {
    const response = await fetch("/api/auth/schemes");
    const data = (await response.json()) as { schemes?: unknown };
    if (response.ok && Array.isArray(data.schemes)) return data.schemes.map(String);
  } catch {
    // an older server: the API key alone
  }
  return ["apikey"];
}

/** `Authorization: Basic` of a user name and password (UTF-8, as servers decode it). */
export function basicAuthorization(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""))}`;
}

/**
 * Log in through the server's authenticators: the server checks `authorization` (a
 * password or a token) and tells the user's roles, then makes this browser an API key of
 * those roles for LOGIN_KEY_SECONDS (the pages' live feeds, websockets, can carry a key
 * but no other header). Refused: the server's own words (`Unauthorized`, `Refused`).
 */
export async function loginKey(authorization: string): Promise<string> {
  const api = new Api("", "", authorization);
  const who = await api.whoami();
  const made = await api.makeKey(who.roles, LOGIN_KEY_SECONDS, "web login");
  return made.secret;
}

/** The first answers index.html asked for while this script loaded: each taken once,
 * by a client of the same key (any other request is sent as usual). */
function takeEarly(key: string, path: string): Promise<Response> | undefined {
  const first = (window as { __cieloFirst?: { key: string; requests: Record<string, Promise<Response>> } })
    .__cieloFirst;
  if (!first || first.key !== key) return undefined;
  const early = first.requests[path];
  delete first.requests[path];
  return early;
}

/** A frame of an array data key (an area detector's image), values in C order. */
export interface Frame {
  seq: number;
  dtype: string;
  shape: number[];
  values: ArrayLike<number>;
}

/** The typed array of each dtype the server sends frames as (always little-endian). */
const TYPED: Record<string, new (buffer: ArrayBuffer) => ArrayLike<number>> = {
  u1: Uint8Array,
  i1: Int8Array,
  u2: Uint16Array,
  i2: Int16Array,
  u4: Uint32Array,
  i4: Int32Array,
  f4: Float32Array,
  f8: Float64Array,
};

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

/** Close a live feed. One still connecting is closed once it opens: closing it earlier
 * makes the browser log "closed before the connection is established" (a page that
 * changes view while its feeds connect, e.g. on a slow network or a busy server). */
export function closeFeed(socket: WebSocket): void {
  socket.onmessage = null;
  if (socket.readyState === WebSocket.CONNECTING) {
    socket.onopen = () => socket.close();
  } else {
    socket.close();
  }
}
