// A labelled choice among names (a plan, a function), the label its accessible name.

export function NameSelect(props: {
  label: string;
  names: string[];
  value: string;
  onChange: (name: string) => void;
  disabled?: boolean;
}) {
  return (
    <label>
      {props.label}{" "}
      <select
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        aria-label={props.label}
        disabled={props.disabled}
      >
        {props.names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </label>
  );
}
