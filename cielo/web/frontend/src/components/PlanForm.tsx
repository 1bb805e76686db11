// A plan's form, drawn by the JSON-schema form library from the plan's parameter schema.
// The form checks types and required fields as the user types; the server's refusal of a
// submitted item is shown at the field it names.

import Form, { getDefaultRegistry } from "@rjsf/core";
import type { IChangeEvent } from "@rjsf/core";
import type { ErrorSchema, ObjectFieldTemplateProps, RJSFSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { useMemo, useState } from "react";
import { Refused, errorText } from "../api";
import { DevicesWidget } from "./DevicesWidget";
import { itemArguments, planForm, plainText, serverErrors } from "../schema";
import type { AllowedPlan, NewItem, Position } from "../types";

type Data = Record<string, unknown>;

const PlainObject = getDefaultRegistry().templates.ObjectFieldTemplate;

/** The plan's required parameters first; the optional ones folded away beneath. */
function FoldOptional(props: ObjectFieldTemplateProps) {
  if (props.fieldPathId.path.length > 0) return <PlainObject {...props} />; // a nested object (md)
  const required = new Set(props.schema.required ?? []);
  const shown = props.properties.filter((p) => required.has(p.name));
  const folded = props.properties.filter((p) => !required.has(p.name));
  return (
    <div className="plan-params">
      {shown.map((p) => p.content)}
      {folded.length > 0 && (
        <details className="optional-params">
          <summary>Optional parameters ({folded.length})</summary>
          {folded.map((p) => p.content)}
        </details>
      )}
    </div>
  );
}

export function PlanForm(props: {
  plans: Record<string, AllowedPlan>;
  onAdd: (item: NewItem, where: Position) => Promise<void>;
}) {
  const names = useMemo(() => Object.keys(props.plans).sort(), [props.plans]);
  const [name, setName] = useState<string>(names.includes("count") ? "count" : (names[0] ?? ""));
  const [data, setData] = useState<Data>({});
  const [where, setWhere] = useState<"back" | "front">("back");
  const [errors, setErrors] = useState<ErrorSchema | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [added, setAdded] = useState<string | null>(null);

  const plan = props.plans[name];
  const form = useMemo(() => (plan?.schema ? planForm(plan.schema) : null), [plan]);

  const choose = (next: string) => {
    setName(next);
    setData({});
    setErrors(undefined);
    setAdded(null);
  };

  const submit = async ({ formData }: IChangeEvent<Data>) => {
    if (!plan?.schema || !form) return;
    const { args, kwargs } = itemArguments(plan.schema, formData ?? {});
    setBusy(true);
    setAdded(null);
    try {
      await props.onAdd({ item_type: "plan", name, args, kwargs }, { pos: where });
      setErrors(undefined);
      setAdded(`${name} added to the ${where} of the queue`);
    } catch (err) {
      const text = errorText(err);
      setErrors(err instanceof Refused ? serverErrors(text, Object.keys(form.schema.properties ?? {})) : { __errors: [text] } as ErrorSchema);
    } finally {
      setBusy(false);
    }
  };

  if (names.length === 0) {
    return <p className="muted">No plans: open the environment to load the profile's plans.</p>;
  }
  return (
    <section className="plan-form" aria-labelledby="plan-form-title">
      <h2 id="plan-form-title">Add a plan</h2>
      <div className="row">
        <label>
          Plan{" "}
          <select value={name} onChange={(e) => choose(e.target.value)} aria-label="Plan">
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Position{" "}
          <select value={where} onChange={(e) => setWhere(e.target.value as "back" | "front")} aria-label="Position">
            <option value="back">back of the queue</option>
            <option value="front">front of the queue</option>
          </select>
        </label>
      </div>
      {plan?.description && <p className="plan-doc">{plainText(plan.description)}</p>}
      {!form ? (
        <p className="error">The server sent no parameter schema for {name}: it cannot be drawn as a form.</p>
      ) : (
        <Form<Data, RJSFSchema>
          key={name}
          idPrefix={`plan-${name}`}
          schema={form.schema as RJSFSchema}
          uiSchema={{ ...form.uiSchema, "ui:submitButtonOptions": { submitText: "Add to queue", props: { disabled: busy } } }}
          validator={validator}
          formData={data}
          onChange={(e) => {
            setData(e.formData ?? {});
            setErrors(undefined);
          }}
          onSubmit={submit}
          onError={() => setAdded(null)} /* the errors are shown at their fields */
          extraErrors={errors}
          liveValidate="onChange"
          showErrorList={false}
          noHtml5Validate
          focusOnFirstError
          templates={{ ObjectFieldTemplate: FoldOptional }}
          widgets={{ devices: DevicesWidget }}
        />
      )}
      {form && form.omitted.length > 0 && (
        <p className="muted">Not settable from a browser (Python values): {form.omitted.join(", ")}.</p>
      )}
      <p role="status" className="ok">
        {added}
      </p>
    </section>
  );
}
