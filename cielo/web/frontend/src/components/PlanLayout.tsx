// How a plan's parameters are laid out in its form. By default: the required ones, then
// the optional ones folded away. A plugin's own form (`cielo_plan_forms`) gives rows
// instead (`ui:layout`), and may draw region boundaries with the values between them as
// one table (`{"intervals": {...}}`, e.g. an XAFS scan's bounds, steps and times).

import { getDefaultRegistry } from "@rjsf/core";
import type { ErrorSchema, ObjectFieldTemplateProps } from "@rjsf/utils";
import type { ReactNode } from "react";

type Data = Record<string, unknown>;

/** A table of region boundaries and, between them, one value per region of each array. */
export interface Intervals {
  bounds: string;
  between: string[];
  title?: string;
}
export type LayoutRow = string[] | { intervals: Intervals };

/** What the form gives its layout: a way to change several parameters at once. */
export interface LayoutContext {
  change: (data: Data) => void;
}

const PlainObject = getDefaultRegistry().templates.ObjectFieldTemplate;

export function PlanLayout(props: ObjectFieldTemplateProps) {
  if (props.fieldPathId.path.length > 0) return <PlainObject {...props} />; // a nested object (md)
  const layout = props.uiSchema?.["ui:layout"] as LayoutRow[] | undefined;
  if (!layout) return <FoldOptional {...props} />;
  const content = new Map(props.properties.map((p) => [p.name, p.content]));
  const placed = new Set<string>();
  const take = (name: string): ReactNode => {
    placed.add(name);
    return content.get(name) ?? null;
  };
  const context = props.registry.formContext as LayoutContext;
  const data = (props.formData ?? {}) as Data;
  const rows = layout.map((row, i) => {
    if (Array.isArray(row)) {
      return (
        <div className="layout-row" key={i}>
          {row.map(take)}
        </div>
      );
    }
    const spec = row.intervals;
    [spec.bounds, ...spec.between].forEach((n) => placed.add(n));
    return (
      <IntervalsTable
        key={i}
        spec={spec}
        data={data}
        errors={props.errorSchema}
        onChange={(patch) => context.change({ ...data, ...patch })}
      />
    );
  });
  const rest = props.properties.filter((p) => !placed.has(p.name));
  return (
    <div className="plan-params custom-layout">
      {props.title && <h3 className="form-title">{props.title}</h3>}
      {rows}
      {rest.length > 0 && (
        <details className="optional-params">
          <summary>Other parameters ({rest.length})</summary>
          {rest.map((p) => p.content)}
        </details>
      )}
    </div>
  );
}

/** The plan's required parameters first; the optional ones folded away beneath. */
function FoldOptional(props: ObjectFieldTemplateProps) {
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

/** A cell's text as the plan takes it: a number, else the text (`"15k"`). */
const value = (text: string): number | string => {
  const trimmed = text.trim();
  return trimmed !== "" && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
};
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function IntervalsTable(props: {
  spec: Intervals;
  data: Data;
  errors?: ErrorSchema;
  onChange: (patch: Data) => void;
}) {
  const { spec, data } = props;
  const bounds = list(data[spec.bounds]);
  const regions = Math.max(bounds.length - 1, 0);
  const names = [spec.bounds, ...spec.between];
  const errorsOf = (n: string) => (props.errors?.[n] as ErrorSchema | undefined)?.__errors ?? [];
  const messages = names.flatMap(errorsOf);
  const set = (name: string, index: number, text: string) => {
    const next = [...list(data[name])];
    next[index] = value(text);
    props.onChange({ [name]: next });
  };
  const addRegion = () => {
    const patch: Data = { [spec.bounds]: [...bounds, bounds[bounds.length - 1] ?? 0] };
    for (const n of spec.between) patch[n] = [...list(data[n]), list(data[n])[regions - 1] ?? 1];
    props.onChange(patch);
  };
  const removeRegion = () => {
    const patch: Data = { [spec.bounds]: bounds.slice(0, -1) };
    for (const n of spec.between) patch[n] = list(data[n]).slice(0, regions - 1);
    props.onChange(patch);
  };
  const cell = (name: string, index: number) => {
    const v = list(data[name])[index];
    return (
      <input
        type="text"
        inputMode="decimal"
        size={6}
        aria-label={`${name} ${index + 1}`}
        aria-invalid={errorsOf(name).length > 0 || undefined}
        value={v === undefined || v === null ? "" : String(v)}
        onChange={(e) => set(name, index, e.target.value)}
      />
    );
  };
  // bounds in the even columns, each region's values in the odd columns between them
  const columns = 2 * regions + 1;
  return (
    <fieldset className="intervals" aria-describedby={`intervals-${spec.bounds}-errors`}>
      <legend>{spec.title ?? `${spec.bounds} and ${spec.between.join(", ")}`}</legend>
      <table>
        <tbody>
          {names.map((name, row) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              {Array.from({ length: columns }, (_, c) => {
                const isBound = c % 2 === 0;
                const index = isBound ? c / 2 : (c - 1) / 2;
                return <td key={c}>{(row === 0) === isBound ? cell(name, index) : null}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button type="button" className="secondary" onClick={addRegion}>
          Add region
        </button>
        <button type="button" className="secondary" onClick={removeRegion} disabled={regions <= 1}>
          Remove last region
        </button>
      </div>
      <ul id={`intervals-${spec.bounds}-errors`} className="error-detail">
        {messages.map((m) => (
          <li key={m} className="text-danger">
            {m}
          </li>
        ))}
      </ul>
    </fieldset>
  );
}
