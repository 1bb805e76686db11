// A button that calls the server, asks first when the action is destructive, and shows the
// server's refusal beside it.

import { useRef, useState } from "react";
import { errorText } from "../api";
import { useServer } from "../server";

export function Action(props: {
  label: string;
  run: () => Promise<unknown>;
  /** Ask this question in a dialog before running (for destructive actions). */
  confirm?: string;
  disabled?: boolean;
  danger?: boolean;
  title?: string;
}) {
  const { refresh } = useServer();
  const dialog = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const go = async () => {
    dialog.current?.close();
    setBusy(true);
    setError(null);
    try {
      await props.run();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
      refresh();
    }
  };

  return (
    <span className="action">
      <button
        type="button"
        className={props.danger ? "danger" : undefined}
        disabled={props.disabled || busy}
        title={props.title}
        onClick={() => (props.confirm ? dialog.current?.showModal() : void go())}
      >
        {props.label}
      </button>
      {props.confirm && (
        <dialog ref={dialog} className="confirm" aria-label={`Confirm: ${props.label}`}>
          <p>{props.confirm}</p>
          <div className="row end">
            <button type="button" autoFocus onClick={() => dialog.current?.close()}>
              Cancel
            </button>
            <button type="button" className="danger" onClick={() => void go()}>
              {props.label}
            </button>
          </div>
        </dialog>
      )}
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </span>
  );
}
