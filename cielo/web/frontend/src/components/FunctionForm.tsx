// A function the profile allows (`[functions] allow`), the caller's group may use: its
// parameters drawn as a form from the schema of its signature, then added to the queue
// (it runs between plans) or run at once outside the queue (`/api/function/execute`),
// its result shown when it has run (`/api/task/result`). The server checks the name and
// the group's permissions either way; its refusal is shown in the form.

import Form from "@rjsf/core";
import type { IChangeEvent } from "@rjsf/core";
import type { ErrorSchema, RJSFSchema } from "@rjsf/utils";
import { useEffect, useMemo, useRef, useState } from "react";
import { Refused, errorText } from "../api";
import { itemArguments, planForm, plainText, serverErrors } from "../schema";
import { useServer } from "../server";
import { NameSelect } from "./NameSelect";
import { FORM_OPTIONS } from "./formOptions";
import type { AllowedFunction, JsonSchema, NewItem, TaskResult } from "../types";

type Data = Record<string, unknown>;

/** How often (ms) the result of a function run at once is asked for while it runs. */
const RESULT_PERIOD_MS = 200;

const UNTYPED_HELP = "Untyped parameter: JSON (3, [1, 2], {\"a\": 1}, \"text\") or plain text.";

/** The function's schema with its untyped parameters (`{}`) as text fields. */
function typedSchema(schema: JsonSchema): { schema: JsonSchema; untyped: string[] } {
  const properties: Record<string, JsonSchema> = {};
  const untyped: string[] = [];
  for (const [name, raw] of Object.entries(schema.properties ?? {})) {
    const bare = raw.type === undefined && raw.anyOf === undefined && raw.enum === undefined;
    if (bare && raw["x-cielo-kind"] !== "var_positional") {
      untyped.push(name);
      const given = raw.default === undefined ? {} : { default: JSON.stringify(raw.default) };
      properties[name] = { ...raw, ...given, type: "string", description: raw.description || UNTYPED_HELP };
    } else if (raw.type === "array" && raw.items && Object.keys(raw.items).length === 0) {
      properties[name] = { ...raw, items: { type: "string", description: UNTYPED_HELP } };
      untyped.push(name);
    } else {
      properties[name] = raw;
    }
  }
  return { schema: { ...schema, properties }, untyped };
}

/** Text typed for an untyped parameter: its JSON value when it is JSON, else the text. */
function fromText(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromText);
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function resultText(name: string, result: TaskResult["result"]): string {
  if (!result) return `${name}: no result`;
  if (result.success) return `${name} returned ${JSON.stringify(result.return_value ?? null)}`;
  return `${name} ${result.exit_status}: ${result.msg}`;
}

export function FunctionForm(props: { functions: Record<string, AllowedFunction> }) {
  const { api, refresh, can } = useServer();
  const adds = can("write:queue:edit");
  const runs = can("write:execute");
  const names = useMemo(() => Object.keys(props.functions).sort(), [props.functions]);
  const [name, setName] = useState(names[0] ?? "");
  const [data, setData] = useState<Data>({});
  const [errors, setErrors] = useState<ErrorSchema | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [result, setResult] = useState<TaskResult["result"] | null>(null);
  const [ran, setRan] = useState("");
  const intent = useRef<"queue" | "run">("queue");
  const mounted = useRef(true);
  useEffect(() => () => void (mounted.current = false), []);
  useEffect(() => {
    if (!names.includes(name)) setName(names[0] ?? ""); // the functions allowed changed
  }, [names, name]);

  const chosen = props.functions[name];
  const typed = useMemo(() => typedSchema(chosen?.schema ?? { properties: {} }), [chosen]);
  const form = useMemo(() => planForm(typed.schema), [typed]);

  const item = (filled: Data): NewItem => {
    const values = { ...filled };
    for (const key of typed.untyped) if (key in values) values[key] = fromText(values[key]);
    const { args, kwargs } = itemArguments(typed.schema, values);
    return { item_type: "function", name, args, kwargs };
  };

  const runNow = async (call: NewItem) => {
    const { task_uid: uid } = await api.executeFunction(call);
    setDone(`${name} is running`);
    refresh();
    for (;;) {
      const reply = await api.taskResult(uid);
      if (reply.status === "completed") return reply.result;
      if (reply.status === "not_found") throw new Error(`the server lost task ${uid}`);
      if (!mounted.current) return null;
      await new Promise((wake) => window.setTimeout(wake, RESULT_PERIOD_MS));
    }
  };

  const submit = async ({ formData: filled }: IChangeEvent<Data>) => {
    const call = item(filled ?? {});
    const running = intent.current === "run" || !adds; // Enter in a field: the first button's
    intent.current = "queue";
    setBusy(true);
    setDone(null);
    setErrors(undefined);
    try {
      if (running) {
        setResult(null);
        const outcome = await runNow(call);
        if (!mounted.current) return;
        setRan(name);
        setResult(outcome);
        setDone(null);
      } else {
        await api.addItem(call);
        setDone(`${name} added to the back of the queue`);
      }
    } catch (err) {
      const text = errorText(err);
      const fields = Object.keys(form.schema.properties ?? {});
      setErrors(err instanceof Refused ? serverErrors(text, fields) : ({ __errors: [text] } as ErrorSchema));
    } finally {
      if (mounted.current) setBusy(false);
      refresh();
    }
  };

  return (
    <section className="function-form" aria-labelledby="function-form-title">
      <h2 id="function-form-title">Functions</h2>
      <div className="row">
        <NameSelect
          label="Function"
          names={names}
          value={name}
          onChange={(next) => {
            setName(next);
            setData({});
            setErrors(undefined);
            setDone(null);
          }}
        />
      </div>
      {chosen?.description && <p className="plan-doc">{plainText(chosen.description)}</p>}
      <Form<Data, RJSFSchema>
        key={name}
        idPrefix={`function-${name}`}
        schema={form.schema as RJSFSchema}
        uiSchema={form.uiSchema}
        {...FORM_OPTIONS}
        formData={data}
        onChange={(e) => {
          setData(e.formData ?? {});
          setErrors(undefined);
        }}
        onSubmit={submit}
        onError={() => setDone(null)}
        extraErrors={errors}
      >
        <div className="row">
          {adds && (
            <button type="submit" disabled={busy} onClick={() => (intent.current = "queue")}>
              Add function to queue
            </button>
          )}
          {runs && (
            <button
              type="submit"
              className="secondary"
              disabled={busy}
              title="Run it now, outside the queue (only while nothing runs)"
              onClick={() => (intent.current = "run")}
            >
              Run now
            </button>
          )}
        </div>
      </Form>
      {form.omitted.length > 0 && (
        <p className="muted">Not settable from a browser (Python values): {form.omitted.join(", ")}.</p>
      )}
      <p role="status" className="ok">
        {done}
      </p>
      {result && (
        <div className={result.success ? "function-result" : "function-result error"} aria-label="Function result">
          <p data-testid="function-result">{resultText(ran, result)}</p>
          {!result.success && result.traceback && (
            <details>
              <summary>Traceback</summary>
              <pre>{result.traceback}</pre>
            </details>
          )}
        </div>
      )}
    </section>
  );
}
