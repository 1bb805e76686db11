// Payloads of cielo's HTTP API, which follows bluesky-httpserver's paths and payloads.
// Only the fields the web application reads are typed; servers may send more.

/** A JSON schema as the server describes plan parameters (draft 2020-12 subset). */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  minimum?: number;
  maximum?: number;
  uniqueItems?: boolean;
  "x-cielo-device"?: string;
  "x-cielo-kind"?: "var_positional" | "keyword_only" | string;
  "x-cielo-python"?: string;
  [key: string]: unknown;
}

export interface PlanQueueMode {
  loop: boolean;
  ignore_failures: boolean;
}

/** `/api/status`: states plus change counters (a counter changes whenever its object does). */
export interface Status {
  msg: string;
  items_in_queue: number;
  items_in_history: number;
  running_item_uid: string | null;
  manager_state: string;
  queue_stop_pending: boolean;
  queue_autostart_enabled?: boolean;
  worker_environment_exists: boolean;
  worker_environment_state: string;
  re_state: string | null;
  pause_pending?: boolean;
  plan_queue_uid: string;
  plan_history_uid: string;
  plans_allowed_uid: string;
  devices_allowed_uid: string;
  run_list_uid?: string;
  lock_info_uid?: string;
  plan_queue_mode?: PlanQueueMode;
  /** Who holds the instrument's lock (null: free): the worker, or another runner. */
  instrument_lock?: { instrument: string; holder: string; pid: number; host: string; since: string; text: string } | null;
  /** Changes whenever the proposals of the review mode do. */
  proposed_uid?: string;
  /** Changes whenever the functions the caller may run do. */
  functions_allowed_uid?: string;
  [key: string]: unknown;
}

export interface ItemResult {
  exit_status: string;
  run_uids: string[];
  scan_ids: number[];
  time_start: number;
  time_stop: number;
  msg: string;
  traceback: string;
  /** A function item's return value (its repr when JSON cannot encode it). */
  return_value?: unknown;
}

/** What a client submits: a plan, a function the profile allows, or an instruction
 * (`queue_stop`), by name with JSON arguments. */
export interface NewItem {
  item_type: "plan" | "instruction" | "function";
  name: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
}

export interface QueueItem extends NewItem {
  item_uid: string;
  user?: string;
  user_group?: string;
  result?: ItemResult;
}

export interface QueueGet {
  items: QueueItem[];
  running_item: QueueItem | Record<string, never>;
  plan_queue_uid: string;
}

/** `/api/auth/whoami`: who the key belongs to, and what it may do. */
export interface WhoAmI {
  user: string;
  roles: string[];
  scopes: string[];
}

/** A proposed item (review mode), with who proposed it. */
export interface Proposals {
  items: QueueItem[];
  proposed_uid: string;
}

export interface HistoryGet {
  items: QueueItem[];
  plan_history_uid: string;
}

export interface AllowedPlan {
  name: string;
  description?: string;
  /** cielo's JSON schema of the plan's parameters (what the forms are drawn from). */
  schema?: JsonSchema;
  /** The plan's own form, offered by its plugin (`cielo_plan_forms`): a uiSchema with
   * cielo's `ui:layout` rows; the server checks it by the plan's rules (`/plans/check`). */
  form?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A function a profile's `[functions] allow` names, which the caller's group may run. */
export interface AllowedFunction {
  name: string;
  description?: string;
  /** The JSON schema of its parameters (from its signature; untyped ones are `{}`). */
  schema?: JsonSchema;
  [key: string]: unknown;
}

export interface FunctionsAllowed {
  functions_allowed: Record<string, AllowedFunction>;
  functions_allowed_uid: string;
}

/** `/api/task/result`: a function run at once, still running or done (`result`). */
export interface TaskResult {
  task_uid: string;
  status: "running" | "completed" | "not_found";
  result: (ItemResult & { success: boolean }) | null;
}

export interface PlansAllowed {
  plans_allowed: Record<string, AllowedPlan>;
  plans_allowed_uid: string;
}

export interface AllowedDevice {
  classname?: string;
  is_movable?: boolean;
  is_readable?: boolean;
  /** A movable device's engineering units, when the server could ask without I/O. */
  units?: string;
  [key: string]: unknown;
}

export interface DevicesAllowed {
  devices_allowed: Record<string, AllowedDevice>;
  devices_allowed_uid: string;
}

/** Where an added or moved item goes: at most one of these. */
export interface Position {
  pos?: number | "front" | "back";
  before_uid?: string;
  after_uid?: string;
}

export type PauseOption = "deferred" | "immediate";

/** The catalog browser's search fields (`/api/runs/search`); empty strings are left out. */
export interface RunSearch {
  text?: string;
  plan?: string;
  status?: string;
  scan_id?: string;
  since?: string;
  until?: string;
  offset?: number;
  /** The uid of the last run of the previous page: the page after it (keyset paging). */
  after?: string;
  limit?: number;
}

export interface RunSummary {
  uid: string;
  scan_id: number | null;
  plan_name: string | null;
  time: number;
  exit_status: string;
  num_events: number | null;
}

export interface RunFound {
  runs: RunSummary[];
  /** Matches counted, up to the server's count limit. */
  total: number;
  /** False when there are more than `total` matches (the server stopped counting). */
  total_exact?: boolean;
  offset: number;
  limit: number;
}

export interface DataKeyInfo {
  dtype?: string;
  shape?: number[];
  source?: string;
  units?: string | null;
  /** Whether the key's column is a number or text per event (read as a table). */
  scalar: boolean;
}

export interface RunMetadata {
  start: Record<string, unknown> & { uid: string; time: number };
  stop: Record<string, unknown> | null;
  exit_status: string;
  streams: Record<string, Record<string, DataKeyInfo>>;
}

/** `/api/runs/{uid}/streams/{stream}/peak_stats`: positions in units of `x`; `com`,
 * `cen` and `fwhm` are null unless the peak is bracketed (`note` says why not). */
export interface PeakStats {
  x: string;
  y: string;
  n: number;
  max: [number | null, number | null];
  min: [number | null, number | null];
  com: number | null;
  cen: number | null;
  fwhm: number | null;
  note: string;
}

export interface StreamColumns {
  seq_num: number[];
  time: number[];
  columns: Record<string, (number | string | boolean | null)[]>;
  arrays: string[];
  truncated: boolean;
}
