// A plan's form, drawn by the JSON-schema form library from the plan's parameter schema,
// laid out as the plan's plugin asks when it offers a form of its own (`form`). The form
// checks types and required fields as the user types; a plan with its own form is also
// checked by the server with the plan's own rules (`/api/plans/check`) as it is filled
// in; the server's refusal is shown at the field it names.

import Form from "@rjsf/core";
import type { IChangeEvent } from "@rjsf/core";
import type { ErrorSchema, RJSFSchema, UiSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { useEffect, useMemo, useRef, useState } from "react";
import { Refused, errorText } from "../api";
import { DevicesWidget } from "./DevicesWidget";
import { NameSelect } from "./NameSelect";
import { FORM_OPTIONS } from "./formOptions";
import { PlanLayout, type LayoutContext } from "./PlanLayout";
import { formData, itemArguments, planForm, plainText, serverErrors } from "../schema";
import { useServer } from "../server";
import type { AllowedPlan, Position, QueueItem } from "../types";

type Data = Record<string, unknown>;

/**
 * Add a plan to the queue, or, given `editing`, change that queued item in place
 * (`/api/queue/item/update`, same uid).
 */
/** The `where` of the position menu as the API's position. */
function position(where: string): Position {
  const [side, uid] = where.split(":");
  if (side === "before" && uid) return { before_uid: uid };
  if (side === "after" && uid) return { after_uid: uid };
  return { pos: where === "front" ? "front" : "back" };
}

export function PlanForm(props: {
  plans: Record<string, AllowedPlan>;
  editing?: QueueItem | null;
  onDone?: () => void;
}) {
  const { api, refresh, queue, can, devices } = useServer();
  // A caller who may only propose (review mode) sends the item for review instead.
  const proposing = !can("write:queue:edit") && can("write:propose");
  const { editing } = props;
  const names = useMemo(() => Object.keys(props.plans).sort(), [props.plans]);
  const [name, setName] = useState<string>(
    editing?.name ?? (names.includes("count") ? "count" : (names[0] ?? "")),
  );
  const [data, setData] = useState<Data>(() => {
    const schema = editing ? props.plans[editing.name]?.schema : undefined;
    return schema && editing ? formData(schema, editing.args, editing.kwargs) : {};
  });
  // "back", "front", or "before:UID" / "after:UID" of a queued item.
  const [where, setWhere] = useState("back");
  const [errors, setErrors] = useState<ErrorSchema | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (editing) heading.current?.focus(); // the form to edit is where the keyboard goes
  }, [editing]);

  const plan = props.plans[name];
  const deviceUnits = useMemo(() => {
    const units: Record<string, string> = {};
    for (const [n, d] of Object.entries(devices?.devices_allowed ?? {})) {
      if (typeof d.units === "string" && d.units) units[n] = d.units;
    }
    return units;
  }, [devices]);
  const form = useMemo(() => (plan?.schema ? planForm(plan.schema, deviceUnits) : null), [plan, deviceUnits]);
  const uiSchema = useMemo(() => withPluginForm(form?.uiSchema ?? {}, plan?.form), [form, plan]);
  const [summary, setSummary] = useState<string | null>(null);
  const context: LayoutContext = useMemo(
    () => ({
      change: (next) => {
        setData(next);
        setErrors(undefined);
      },
    }),
    [],
  );

  // A plan with a form of its own is checked by its own rules while it is filled in.
  useEffect(() => {
    if (!plan?.form || !plan.schema || !form) return;
    if (validator.validateFormData(data, form.schema as RJSFSchema).errors.length > 0) {
      setSummary(null);
      return;
    }
    let current = true;
    const { args, kwargs } = itemArguments(plan.schema, data);
    const timer = window.setTimeout(() => {
      api
        .checkItem({ item_type: "plan", name, args, kwargs })
        .then((reply) => current && setSummary(String(reply.summary?.text ?? "")))
        .catch((err) => {
          if (!current) return;
          setSummary(null);
          const fields = Object.keys(form.schema.properties ?? {});
          setErrors(err instanceof Refused ? serverErrors(errorText(err), fields) : undefined);
        });
    }, 250);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [api, data, form, name, plan]);

  const choose = (next: string) => {
    setName(next);
    setData({});
    setErrors(undefined);
    setDone(null);
    setSummary(null);
  };

  const submit = async ({ formData: filled }: IChangeEvent<Data>) => {
    if (!plan?.schema || !form) return;
    const { args, kwargs } = itemArguments(plan.schema, filled ?? {});
    const item = { item_type: "plan" as const, name, args, kwargs };
    setBusy(true);
    setDone(null);
    try {
      if (plan.form) await api.checkItem(item); // the plan's own rules, before it is sent
      if (editing) {
        await api.updateItem({ ...item, item_uid: editing.item_uid });
        props.onDone?.();
      } else if (proposing) {
        await api.propose(item);
        setDone(`${name} proposed for review`);
      } else {
        await api.addItem(item, position(where));
        const [side, uid] = where.split(":");
        const at = queue?.items.findIndex((i) => i.item_uid === uid) ?? -1;
        setDone(uid ? `${name} added ${side} item ${at + 1}` : `${name} added to the ${where} of the queue`);
      }
      setErrors(undefined);
    } catch (err) {
      const text = errorText(err);
      const fields = Object.keys(form.schema.properties ?? {});
      setErrors(err instanceof Refused ? serverErrors(text, fields) : ({ __errors: [text] } as ErrorSchema));
    } finally {
      setBusy(false);
      refresh();
    }
  };

  if (names.length === 0) {
    return <p className="muted">No plans: open the environment to load the profile's plans.</p>;
  }
  return (
    <section className="plan-form" aria-labelledby="plan-form-title">
      <h2 id="plan-form-title" ref={heading} tabIndex={-1}>
        {editing ? `Edit ${editing.name}` : proposing ? "Propose a plan" : "Add a plan"}
      </h2>
      <div className="row">
        <NameSelect label="Plan" names={names} value={name} onChange={choose} disabled={!!editing} />
        {editing ? (
          <button type="button" className="secondary" onClick={props.onDone}>
            Cancel editing
          </button>
        ) : proposing ? null : (
        <label>
          Position{" "}
          <select value={where} onChange={(e) => setWhere(e.target.value)} aria-label="Position">
            <option value="back">back of the queue</option>
            <option value="front">front of the queue</option>
            {(queue?.items ?? []).flatMap((item, i) =>
              (["before", "after"] as const).map((side) => (
                <option key={`${side}:${item.item_uid}`} value={`${side}:${item.item_uid}`}>
                  {side} {i + 1}. {item.name}
                </option>
              )),
            )}
          </select>
        </label>
        )}
      </div>
      {plan?.description && <p className="plan-doc">{plainText(plan.description)}</p>}
      {!form ? (
        <p className="error">The server sent no parameter schema for {name}: it cannot be drawn as a form.</p>
      ) : (
        <Form<Data, RJSFSchema>
          key={name}
          idPrefix={`plan-${name}`}
          schema={form.schema as RJSFSchema}
          uiSchema={{ ...uiSchema, "ui:submitButtonOptions": { submitText: editing ? "Save changes" : proposing ? "Propose" : "Add to queue", props: { disabled: busy } } }}
          {...FORM_OPTIONS}
          formData={data}
          onChange={(e) => {
            setData(e.formData ?? {});
            setErrors(undefined);
          }}
          onSubmit={submit}
          onError={() => setDone(null)} /* the errors are shown at their fields */
          extraErrors={errors}
          templates={{ ObjectFieldTemplate: PlanLayout }}
          formContext={context}
          widgets={{ devices: DevicesWidget }}
        />
      )}
      {summary && (
        <p className="plan-summary" aria-live="polite">
          {summary}
        </p>
      )}
      {form && form.omitted.length > 0 && (
        <p className="muted">Not settable from a browser (Python values): {form.omitted.join(", ")}.</p>
      )}
      <p role="status" className="ok">
        {done}
      </p>
    </section>
  );
}

/** The uiSchema drawn from the plan's schema, with its plugin's form (`ui:layout`,
 * widgets, titles) laid over it, parameter by parameter. */
function withPluginForm(drawn: UiSchema, plugin: UiSchema | undefined): UiSchema {
  if (!plugin) return drawn;
  const merged: UiSchema = { ...drawn };
  for (const [key, ui] of Object.entries(plugin)) {
    const own = drawn[key];
    merged[key] = own && typeof own === "object" && ui && typeof ui === "object" ? { ...own, ...ui } : ui;
  }
  return merged;
}
