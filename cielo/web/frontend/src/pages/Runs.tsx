// The catalog browser: search stored runs (text, plan, status, scan id, time range) a page
// at a time; open one: its metadata, a stream as a plot and a table, its images frame by
// frame, and a download in any installed suitcase's format.

import { useEffect, useRef, useState } from "react";
import type { FormEvent } from "react";
import type uPlot from "uplot";
import { errorText } from "../api";
import { FrameView } from "../components/FrameView";
import { when } from "../components/describe";
import { lineChart } from "../components/plot";
import { Table, type Column } from "../components/Table";
import { navigate } from "../navigate";
import { useServer } from "../server";
import type { RunFound, RunMetadata, RunSearch, RunSummary, StreamColumns } from "../types";

const PAGE_SIZE = 20;
/** Rows of a stream shown in the table (the plot shows them all). */
const TABLE_ROWS = 50;
const STATUSES = ["", "success", "abort", "fail", "incomplete"];

/** A `datetime-local` value as ISO 8601 in the browser's time zone (the server reads ISO). */
function isoLocal(value: string): string {
  return value ? new Date(value).toISOString() : "";
}

function SearchForm(props: { onSearch: (search: RunSearch) => void; busy: boolean }) {
  const [fields, setFields] = useState({ text: "", plan: "", status: "", scan_id: "", since: "", until: "" });
  const set = (key: keyof typeof fields) => (e: { target: { value: string } }) =>
    setFields((f) => ({ ...f, [key]: e.target.value }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    props.onSearch({ ...fields, since: isoLocal(fields.since), until: isoLocal(fields.until) });
  };
  return (
    <form className="run-search" onSubmit={submit} aria-label="Search runs">
      <label>
        Text <input type="search" value={fields.text} onChange={set("text")} placeholder="words in the metadata" />
      </label>
      <label>
        Plan <input value={fields.plan} onChange={set("plan")} placeholder="e.g. scan" />
      </label>
      <label>
        Status{" "}
        <select value={fields.status} onChange={set("status")}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s || "any"}
            </option>
          ))}
        </select>
      </label>
      <label>
        Scan id <input value={fields.scan_id} onChange={set("scan_id")} placeholder="N or A:B" size={8} />
      </label>
      <label>
        Since <input type="datetime-local" value={fields.since} onChange={set("since")} />
      </label>
      <label>
        Until <input type="datetime-local" value={fields.until} onChange={set("until")} />
      </label>
      <button type="submit" disabled={props.busy}>
        Search
      </button>
    </form>
  );
}

function StreamPlot(props: { x: number[]; y: (number | null)[]; xName: string; yName: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // The points on the chart (0 until uPlot, loaded on first use, has drawn them).
  const [drawn, setDrawn] = useState(0);
  const { x, y, xName, yName } = props;
  useEffect(() => {
    let live = true;
    setDrawn(0);
    void lineChart(box.current!, xName, yName).then((chart) => {
      if (!live) return chart.destroy();
      plot.current = chart;
      chart.setData([x, y]);
      setDrawn(x.length);
    });
    return () => {
      live = false;
      plot.current?.destroy();
      plot.current = null;
    };
  }, [x, y, xName, yName]);
  return <div ref={box} className="run-plot" data-points={drawn} />;
}

function numeric(values: unknown[]): values is (number | null)[] {
  return values.some((v) => typeof v === "number") && values.every((v) => v === null || typeof v === "number");
}

function StreamView(props: { uid: string; stream: string; start: RunMetadata["start"] }) {
  const { api } = useServer();
  const { uid, stream, start } = props;
  const [data, setData] = useState<StreamColumns | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [xKey, setXKey] = useState("seq_num");
  const [yKey, setYKey] = useState("");
  useEffect(() => {
    let live = true;
    setData(null);
    setError(null);
    api
      .streamColumns(uid, stream)
      .then((d) => {
        if (!live) return;
        const plottable = Object.keys(d.columns).filter((k) => numeric(d.columns[k]));
        const motors = ((start.motors as string[] | undefined) ?? []).filter((m) => plottable.includes(m));
        const detectors = ((start.detectors as string[] | undefined) ?? []).flatMap((det) =>
          plottable.filter((k) => k === det || k.startsWith(`${det}_`) || k.startsWith(`${det}.`)),
        );
        setXKey(motors[0] ?? "seq_num");
        setYKey(detectors.find((k) => !motors.includes(k)) ?? plottable.find((k) => !motors.includes(k)) ?? "");
        setData(d);
      })
      .catch((err) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [api, uid, stream, start]);
  if (error) return <p role="alert" className="error">{error}</p>;
  if (!data) return <p className="muted">Loading {stream}…</p>;
  const keys = Object.keys(data.columns);
  const plottable = keys.filter((k) => numeric(data.columns[k]));
  const column = (k: string) => (k === "seq_num" ? data.seq_num : (data.columns[k] as (number | null)[]));
  const rows = data.seq_num.length;
  return (
    <>
      {plottable.length > 0 ? (
        <>
          <div className="row">
            <label>
              x{" "}
              <select value={xKey} onChange={(e) => setXKey(e.target.value)}>
                {["seq_num", ...plottable].map((k) => (
                  <option key={k}>{k}</option>
                ))}
              </select>
            </label>
            <label>
              y{" "}
              <select value={yKey} onChange={(e) => setYKey(e.target.value)}>
                {plottable.map((k) => (
                  <option key={k}>{k}</option>
                ))}
              </select>
            </label>
          </div>
          {yKey && <StreamPlot x={column(xKey) as number[]} y={column(yKey)} xName={xKey} yName={yKey} />}
        </>
      ) : (
        <p className="muted">No numeric column to plot.</p>
      )}
      <div className="table-wrap">
        <table className="history stream-table" aria-label={`Stream ${stream}`}>
          <thead>
            <tr>
              <th scope="col">seq_num</th>
              {keys.map((k) => (
                <th key={k} scope="col">
                  {k}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.seq_num.slice(0, TABLE_ROWS).map((seq, i) => (
              <tr key={seq}>
                <td>{seq}</td>
                {keys.map((k) => (
                  <td key={k}>{String(data.columns[k][i] ?? "")}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted small">
        {rows > TABLE_ROWS ? `First ${TABLE_ROWS} of ${rows} rows shown; the plot has them all.` : `${rows} rows.`}
      </p>
      {data.arrays.length > 0 && rows > 0 && <Frames uid={uid} stream={stream} keys={data.arrays} rows={data.seq_num} />}
    </>
  );
}

/** A stream's array keys (images), one frame at a time. */
function Frames(props: { uid: string; stream: string; keys: string[]; rows: number[] }) {
  const { uid, stream, keys, rows } = props;
  const [key, setKey] = useState(keys[0]);
  const [seq, setSeq] = useState(rows[rows.length - 1]);
  return (
    <div className="frames">
      <div className="row">
        <label>
          Image{" "}
          <select value={key} onChange={(e) => setKey(e.target.value)}>
            {keys.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          Frame{" "}
          <input
            type="number"
            min={rows[0]}
            max={rows[rows.length - 1]}
            value={seq}
            onChange={(e) => e.target.value && setSeq(Number(e.target.value))}
          />
        </label>
      </div>
      <FrameView key={`${uid} ${stream} ${key}`} uid={uid} stream={stream} dataKey={key} seq={seq} />
    </div>
  );
}

function Download(props: { uid: string }) {
  const { api } = useServer();
  const [formats, setFormats] = useState<string[]>([]);
  const [format, setFormat] = useState("csv");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api
      .suitcases()
      .then((s) => setFormats(s.suitcases))
      .catch((err) => setError(errorText(err)));
  }, [api]);
  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const { blob, filename } = await api.exportRun(props.uid, format);
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = filename;
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="row" role="group" aria-label="Download">
      <label>
        Format{" "}
        <select value={format} onChange={(e) => setFormat(e.target.value)}>
          {formats.map((f) => (
            <option key={f}>{f}</option>
          ))}
        </select>
      </label>
      <button type="button" onClick={() => void download()} disabled={busy || formats.length === 0}>
        Download
      </button>
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </div>
  );
}

function RunView(props: { uid: string; onClose: () => void }) {
  const { api } = useServer();
  const [run, setRun] = useState<RunMetadata | null>(null);
  const [stream, setStream] = useState("primary");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setRun(null);
    api
      .run(props.uid)
      .then((r) => {
        setRun(r);
        const names = Object.keys(r.streams);
        setStream(names.includes("primary") ? "primary" : (names[0] ?? ""));
      })
      .catch((err) => setError(errorText(err)));
  }, [api, props.uid]);
  const start = run?.start;
  const title = start ? `${String(start.plan_name ?? "run")} #${String(start.scan_id ?? "")}` : props.uid.slice(0, 8);
  const shown = start ? Object.entries(start).filter(([k]) => !["uid", "time"].includes(k)) : [];
  return (
    <section className="card run-view" aria-labelledby="run-title">
      <div className="row">
        <h2 id="run-title">Run {title}</h2>
        <button type="button" className="secondary" onClick={props.onClose}>
          Back to the results
        </button>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      {run && start && (
        <>
          <dl className="state">
            <dt>uid</dt>
            <dd>
              <code>{start.uid}</code>
            </dd>
            <dt>Started</dt>
            <dd>{when(start.time)}</dd>
            <dt>Status</dt>
            <dd data-testid="run-status">{run.exit_status}</dd>
          </dl>
          <Download uid={start.uid} />
          <details>
            <summary>Metadata</summary>
            <dl className="state metadata">
              {shown.map(([k, v]) => (
                <div key={k} className="contents">
                  <dt>{k}</dt>
                  <dd>
                    <code>{typeof v === "string" ? v : JSON.stringify(v)}</code>
                  </dd>
                </div>
              ))}
            </dl>
          </details>
          <div className="row">
            <h3>Stream</h3>
            <select aria-label="Stream" value={stream} onChange={(e) => setStream(e.target.value)}>
              {Object.keys(run.streams).map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </div>
          {stream && <StreamView uid={start.uid} stream={stream} start={start} />}
        </>
      )}
    </section>
  );
}

/** The catalog browser; `uid`: open that run (its own address, `/runs/UID`). */
export function RunsPage(props: { uid?: string }) {
  const { api, status } = useServer();
  const [search, setSearch] = useState<RunSearch>({});
  // The uid each page after the first continues after (keyset paging: a page stays put
  // when runs are stored meanwhile, and the catalog never skips rows to reach it).
  const [marks, setMarks] = useState<string[]>([]);
  const after = marks[marks.length - 1];
  const [found, setFound] = useState<RunFound | null>(null);
  // The page number of the runs shown (the rows and their range change together, once
  // the next page has come; the marks change at the click).
  const [shownPage, setShownPage] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState<string | null>(props.uid ?? null);
  useEffect(() => setOpen(props.uid ?? null), [props.uid]);
  // A run opened by its address goes back to the results at /runs.
  const close = () => (props.uid ? navigate("/runs") : setOpen(null));
  // Searched again when the history changes: a run that just ended shows without a click.
  const history = status?.plan_history_uid;
  useEffect(() => {
    let live = true;
    setBusy(true);
    const pageNumber = marks.length;
    api
      .searchRuns({ ...search, after, limit: PAGE_SIZE })
      .then((f) => {
        if (!live) return;
        setFound(f);
        setShownPage(pageNumber);
        setError(null);
      })
      .catch((err) => live && setError(errorText(err)))
      .finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [api, search, after, history, marks.length]);

  if (open) return <div className="page single"><RunView uid={open} onClose={close} /></div>;
  const first = shownPage * PAGE_SIZE;
  const exact = found?.total_exact !== false;
  const last = found ? (exact ? Math.min(first + found.runs.length, found.total) : first + found.runs.length) : 0;
  const total = found ? (exact ? String(found.total) : `more than ${found.total.toLocaleString("en")}`) : "";
  const columns: Column<RunSummary>[] = [
    {
      header: "Scan",
      cell: (r) => (
        <button type="button" className="link" onClick={() => setOpen(r.uid)}>
          Open #{r.scan_id ?? "?"}
        </button>
      ),
    },
    { header: "Plan", cell: (r) => r.plan_name ?? "" },
    { header: "Started", cell: (r) => when(r.time) },
    { header: "Status", cell: (r) => r.exit_status, className: (r) => `exit ${r.exit_status}` },
    { header: "Events", cell: (r) => r.num_events ?? "" },
    { header: "uid", cell: (r) => <code title={r.uid}>{r.uid.slice(0, 8)}</code> },
  ];
  return (
    <div className="page single">
      <section className="card" aria-labelledby="runs-title">
        <h2 id="runs-title">Catalog</h2>
        <SearchForm
          busy={busy}
          onSearch={(s) => {
            setSearch(s);
            setMarks([]);
          }}
        />
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        {found && found.total === 0 && <p className="muted">No runs matched.</p>}
        {found && found.total > 0 && (
          <>
            <Table className="history runs" rows={found.runs} columns={columns} rowKey={(r) => r.uid} />
            <div className="row pager" role="group" aria-label="Pages of runs">
              <button type="button" className="secondary" disabled={marks.length === 0} onClick={() => setMarks(marks.slice(0, -1))}>
                Previous
              </button>
              <span data-testid="runs-range">
                {first + 1}–{last} of {total}
              </span>
              <button
                type="button"
                className="secondary"
                disabled={(exact && last >= found.total) || found.runs.length < PAGE_SIZE}
                onClick={() => setMarks([...marks, found.runs[found.runs.length - 1].uid])}
              >
                Next
              </button>
            </div>
          </>
        )}
      </section>
    </div>
  );
}
