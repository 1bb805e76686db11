// From a plan's parameter schema (cielo.core's signature_schema) to what the form library
// draws, and from the filled form back to a queue item's args and kwargs.

import type { ErrorSchema, UiSchema } from "@rjsf/utils";
import type { JsonSchema } from "./types";

export interface PlanForm {
  schema: JsonSchema;
  uiSchema: UiSchema;
  /** Parameters the form leaves out: Python-only values (callables) a browser cannot give. */
  omitted: string[];
}

const isNull = (s: JsonSchema) => s.type === "null";
const pythonOnly = (s: JsonSchema): boolean =>
  s["x-cielo-python"] !== undefined || (s.anyOf !== undefined && s.anyOf.filter((a) => !isNull(a)).every(pythonOnly));

/** Docstring text reads better without reStructuredText's double backquotes. */
export const plainText = (text: string | undefined) => (text ?? "").replace(/``/g, "");

function field(schema: JsonSchema, optional: boolean): JsonSchema {
  let s: JsonSchema = { ...schema };
  if (s.anyOf) {
    const alternatives = s.anyOf.filter((a) => !isNull(a) && !pythonOnly(a)).map((a) => field(a, false));
    // An optional parameter whose only other choice is None: leaving the field empty means None.
    if (optional && alternatives.length === 1) {
      const { anyOf: _drop, ...rest } = s;
      s = { ...rest, ...alternatives[0], description: s.description ?? alternatives[0].description };
    } else {
      s.anyOf = alternatives.map((a) => ({ title: choiceTitle(a), ...a }));
    }
  }
  if (s.default === null) delete s.default;
  if (s.type === "array" && s.items) {
    s.items = field(s.items, false);
    if (s.items.enum) s.uniqueItems = true; // a set of devices: drawn as checkboxes
  }
  if (s.type === "object" && s.additionalProperties !== undefined && typeof s.additionalProperties === "object") {
    const values = s.additionalProperties;
    // Free-form values (metadata): entered as text.
    if (Object.keys(values).length === 0) s.additionalProperties = { type: "string" };
  }
  if (s.description) s.description = plainText(s.description);
  return s;
}

/** A number's bounds as the help says them (`1 ≤ value ≤ 5`, `value > 0`), else "". */
export function limitsText(s: JsonSchema): string {
  const num = (v: unknown) => (typeof v === "number" ? String(v) : null);
  const low = num(s.minimum) ? `${num(s.minimum)} ≤ ` : num(s.exclusiveMinimum) ? `${num(s.exclusiveMinimum)} < ` : "";
  const high = num(s.maximum) ? ` ≤ ${num(s.maximum)}` : num(s.exclusiveMaximum) ? ` < ${num(s.exclusiveMaximum)}` : "";
  return low || high ? `${low}value${high}` : "";
}

/** Declared units (`Annotated[float, Units("s")]`), on the parameter or on one of its
 * alternatives (`Optional[...]`), else "": they follow its name, "delay (s)". */
function unitsOf(s: JsonSchema): string {
  if (typeof s.units === "string" && s.units) return s.units;
  return (s.anyOf ?? []).map(unitsOf).find((u) => u) ?? "";
}

function choiceTitle(s: JsonSchema): string {
  if (s["x-cielo-device"]) return `device (${s["x-cielo-device"]})`;
  if (Array.isArray(s.type)) return s.type.join(" or ");
  if (s.type === "array") return `list of ${s.items ? choiceTitle(s.items) : "values"}`;
  return String(s.type ?? "value");
}

/** A device chosen from a list shows its units ("motor1 (mm)"): the positions that follow
 * it are in them. Found in the field, its alternatives and its list's items. */
function unitsUi(s: JsonSchema, deviceUnits: Record<string, string>): UiSchema {
  const named = (n: unknown) => (deviceUnits[String(n)] ? `${n} (${deviceUnits[String(n)]})` : String(n));
  if (s["x-cielo-device"] && Array.isArray(s.enum) && s.enum.some((n) => deviceUnits[String(n)])) {
    return { "ui:enumNames": s.enum.map(named) };
  }
  if (s.anyOf) {
    const options = s.anyOf.map((a) => unitsUi(a, deviceUnits));
    return options.some((o) => Object.keys(o).length) ? { anyOf: options } : {};
  }
  if (s.type === "array" && s.items) {
    const items = unitsUi(s.items, deviceUnits);
    return Object.keys(items).length ? { items } : {};
  }
  return {};
}

/** The form for one plan: its parameters, with optional ones marked for folding away. */
export function planForm(planSchema: JsonSchema, deviceUnits: Record<string, string> = {}): PlanForm {
  const required = new Set(planSchema.required ?? []);
  const properties: Record<string, JsonSchema> = {};
  const uiSchema: UiSchema = { "ui:submitButtonOptions": { norender: true } };
  const omitted: string[] = [];
  for (const [name, raw] of Object.entries(planSchema.properties ?? {})) {
    if (pythonOnly(raw)) {
      omitted.push(name);
      continue;
    }
    const s = field(raw, !required.has(name));
    const units = unitsOf(raw);
    properties[name] = { title: units ? `${name} (${units})` : name, ...s };
    const ui: UiSchema = {};
    const limits = limitsText(s);
    if (limits) ui["ui:help"] = `Limits: ${limits}.`; // also checked as it is typed
    if (s.type === "array" && s.items?.enum) ui["ui:widget"] = s.items["x-cielo-device"] ? "devices" : "checkboxes";
    if (!ui["ui:widget"]) Object.assign(ui, unitsUi(s, deviceUnits));
    if (raw["x-cielo-kind"] === "var_positional") ui["ui:help"] = "Given as positional arguments, in this order.";
    uiSchema[name] = ui;
  }
  const schema: JsonSchema = {
    type: "object",
    properties,
    required: [...required].filter((n) => n in properties),
    additionalProperties: false,
  };
  return { schema, uiSchema, omitted };
}

const given = (v: unknown) => v !== undefined && v !== null && !(typeof v === "string" && v === "");

/**
 * A queue item's `args` and `kwargs` from the filled form, bound as Python binds them.
 *
 * Parameters are passed by name, except those that must be positional: positional-only
 * ones, and, when the plan takes `*args` and the user gave some, every parameter before
 * `*args` and the `*args` values, as in `scan(detectors, motor, -1, 1, num=5)`.
 */
export function itemArguments(
  planSchema: JsonSchema,
  data: Record<string, unknown>,
): { args: unknown[]; kwargs: Record<string, unknown> } {
  const entries = Object.entries(planSchema.properties ?? {});
  const kind = (s: JsonSchema) => s["x-cielo-kind"];
  const varIndex = entries.findIndex(([, s]) => kind(s) === "var_positional");
  const varValues = varIndex >= 0 ? data[entries[varIndex][0]] : undefined;
  const varGiven = Array.isArray(varValues) && varValues.length > 0;
  const lastPositionalOnly = entries.map(([, s]) => kind(s)).lastIndexOf("positional_only");
  const cut = varGiven ? varIndex : lastPositionalOnly + 1; // indexes below: positional
  const args: unknown[] = [];
  const kwargs: Record<string, unknown> = {};
  entries.forEach(([name, s], index) => {
    const value = data[name];
    if (index < cut) args.push(given(value) ? value : (s.default ?? null));
    else if (index === varIndex) args.push(...(varGiven ? (varValues as unknown[]) : []));
    else if (given(value)) kwargs[name] = value;
  });
  return { args, kwargs };
}

/** The form's values for an existing item (to duplicate or edit it in the form). */
export function formData(planSchema: JsonSchema, args: unknown[] = [], kwargs: Record<string, unknown> = {}) {
  const data: Record<string, unknown> = {};
  const entries = Object.entries(planSchema.properties ?? {});
  let i = 0;
  for (const [name, s] of entries) {
    if (i >= args.length) break;
    if (s["x-cielo-kind"] === "var_positional") {
      data[name] = args.slice(i);
      i = args.length;
    } else if (s["x-cielo-kind"] !== "keyword_only") {
      data[name] = args[i++];
    }
  }
  return { ...data, ...kwargs };
}

/**
 * The server's refusal shown at the field it names (`'num'`, or `parameter num: ...` as
 * cielo's server words it), else at the top of the form.
 */
export function serverErrors(message: string, names: string[]): ErrorSchema {
  const at = (name: string) => {
    const n = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const found = new RegExp(`['"\`]${n}['"\`]|parameter ${n}\\b`).exec(message);
    return found ? found.index : -1;
  };
  const named = names.filter((n) => at(n) >= 0).sort((a, b) => at(a) - at(b));
  if (named.length > 0) return { [named[0]]: { __errors: [message] } } as ErrorSchema;
  return { __errors: [message] } as ErrorSchema;
}
