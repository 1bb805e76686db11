// Choosing a set of devices: the devices as checkboxes, their components (`det.value`,
// dotted names the server resolves) folded away beneath.

import type { WidgetProps } from "@rjsf/utils";

export function DevicesWidget(props: WidgetProps) {
  const { id, value, options, onChange, onBlur, onFocus, disabled, readonly } = props;
  const all = (options.enumOptions ?? []).map((o) => String(o.value));
  const chosen: string[] = Array.isArray(value) ? value.map(String) : [];
  const toggle = (name: string, on: boolean) =>
    onChange(all.filter((n) => (n === name ? on : chosen.includes(n))));
  const box = (name: string) => (
    <label key={name} className="device-choice">
      <input
        type="checkbox"
        name={id}
        value={name}
        checked={chosen.includes(name)}
        disabled={disabled || readonly}
        onChange={(e) => toggle(name, e.target.checked)}
        onBlur={() => onBlur(id, chosen)}
        onFocus={() => onFocus(id, chosen)}
      />
      <span>{name}</span>
    </label>
  );
  const devices = all.filter((n) => !n.includes("."));
  const components = all.filter((n) => n.includes("."));
  const openComponents = components.some((n) => chosen.includes(n));
  return (
    <div id={id} className="devices-widget" role="group" aria-label={props.label}>
      <div className="checkboxes">{devices.map(box)}</div>
      {components.length > 0 && (
        <details open={openComponents || undefined}>
          <summary>Components ({components.length})</summary>
          <div className="checkboxes">{components.map(box)}</div>
        </details>
      )}
    </div>
  );
}
