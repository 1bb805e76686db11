// The running scan drawn live from the documents the server streams (/api/documents/ws):
// its progress (points done of the planned total, elapsed, ETA), a line plot of the first
// hinted detector field against the first motor (or the point number), a heat map for a
// grid scan, the latest image of an area detector (sent inline, or read by the server
// from the files the detector writes: FrameView), and a table of the last points. Documents are gathered as they come and drawn at most once per animation frame,
// so a fast scan makes the drawing coarser, never late.

import { useEffect, useRef, useState } from "react";
import type uPlot from "uplot";
import { closeFeed } from "../api";
import { useServer } from "../server";
import { FrameView } from "./FrameView";
import { PeakSummary } from "./PeakStats";
import { decimate, lineChart } from "./plot";
import { asImage, drawCells } from "./raster";

type Doc = Record<string, any>;

interface Run {
  title: string;
  xName: string;
  yName: string;
  /** The data keys plotted (x: null, the point number), for the peak statistics. */
  xKey: string | null;
  yKey: string | null;
  status: string;
  /** Planned points (the start document's `num_points`), if the plan said. */
  total: number | null;
  started: number;
  /** [rows, cols] of a 2-D grid scan (drawn as a heat map), else null. */
  grid: [number, number] | null;
  image: string | null;
  /** An image key stored outside the events (an area detector's file), fetched by uid. */
  frames: string | null;
  uid: string;
  columns: string[];
}

/** Rows of the live table. */
const TABLE_ROWS = 8;

/** The field to plot for each of `names` (a device's hinted fields, else the name itself). */
function hinted(names: string[], descriptor: Doc): string[] {
  const hints: Record<string, { fields?: string[] }> = descriptor.hints ?? {};
  return names.flatMap((n) => hints[n]?.fields ?? (n in (descriptor.data_keys ?? {}) ? [n] : []));
}

/** The cell of point `i` (0-based) of a grid scan, following its snaking. */
function cell(i: number, rows: number, cols: number, snaking: boolean[]): number {
  const row = Math.floor(i / cols);
  const col = snaking[1] && row % 2 === 1 ? cols - 1 - (i % cols) : i % cols;
  return row < rows ? row * cols + col : -1;
}

function seconds(s: number): string {
  if (!Number.isFinite(s)) return "…";
  return s >= 90 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(s < 10 ? 1 : 0)} s`;
}

function Progress(props: { run: Run; points: number; lastTime: number | null }) {
  const { run, points } = props;
  const [now, setNow] = useState(() => Date.now() / 1000);
  const running = run.status === "running";
  useEffect(() => {
    if (!running) return;
    const timer = window.setInterval(() => setNow(Date.now() / 1000), 500);
    return () => window.clearInterval(timer);
  }, [running]);
  const end = running ? Math.max(now, props.lastTime ?? now) : (props.lastTime ?? now);
  const elapsed = Math.max(0, end - run.started);
  const left = run.total && points ? (elapsed / points) * (run.total - points) : NaN;
  return (
    <div className="progress-line">
      <progress aria-label="Points done" max={run.total ?? undefined} value={points} />
      <span data-testid="live-progress">
        {points}
        {run.total ? ` of ${run.total}` : ""} points · {seconds(elapsed)} elapsed
        {running && run.total ? (
          <>
            {" "}
            · ETA <span data-testid="live-eta">{points ? seconds(left) : "…"}</span>
          </>
        ) : null}
      </span>
    </div>
  );
}

export function LivePlot() {
  const { api } = useServer();
  const box = useRef<HTMLDivElement>(null);
  const heat = useRef<HTMLCanvasElement>(null);
  const picture = useRef<HTMLCanvasElement>(null);
  const [run, setRun] = useState<Run | null>(null);
  const [points, setPoints] = useState(0);
  const [seq, setSeq] = useState(0);
  const [lastTime, setLastTime] = useState<number | null>(null);
  const [rows, setRows] = useState<Doc[]>([]);
  const [cells, setCells] = useState(0);
  const redraw = useRef<() => void>(() => {});
  useEffect(() => redraw.current(), [run?.grid, run?.image]); // after a canvas mounts

  useEffect(() => {
    let start: Doc | null = null;
    let primary: string | null = null;
    let xKey: string | null = null;
    let yKey: string | null = null;
    let imageKey: string | null = null;
    let grid: [number, number] | null = null;
    let snaking: boolean[] = [];
    let xs: number[] = [];
    let ys: number[] = [];
    let values: (number | null)[] = [];
    let last: Doc[] = [];
    let image: number[][] | null = null;
    let time: number | null = null;
    let lastSeq = 0;
    let plot: uPlot | null = null;
    let closed = false;
    let frame = 0;

    const draw = () => {
      frame = 0;
      plot?.setData(decimate(xs, ys));
      setPoints(xs.length);
      setSeq(lastSeq);
      setLastTime(time);
      setRows(last.slice(-TABLE_ROWS));
      if (grid && heat.current) {
        drawCells(heat.current, values, grid[0], grid[1]);
        setCells(values.filter((v) => v !== null).length);
      }
      if (image && picture.current) {
        drawCells(picture.current, image.flat(), image.length, image[0].length);
      }
    };
    const add = (seq: number, x: number, data: Doc, t: number) => {
      const y = yKey ? data[yKey] : undefined;
      time = t;
      lastSeq = Math.max(lastSeq, seq);
      if (typeof y === "number") {
        xs.push(x);
        ys.push(y);
        if (grid) {
          const at = cell(seq - 1, grid[0], grid[1], snaking);
          if (at >= 0) values[at] = y;
        }
      }
      if (imageKey) image = asImage(data[imageKey]) ?? image;
      last.push({ seq_num: seq, ...data });
      if (last.length > 4 * TABLE_ROWS) last = last.slice(-TABLE_ROWS);
      if (!frame) frame = requestAnimationFrame(draw);
    };
    // A fast scan can end before React has mounted the canvas its descriptor asked for:
    // the canvases draw once they are there (the effect below), not only on documents.
    redraw.current = () => {
      if (!frame) frame = requestAnimationFrame(draw);
    };

    const socket = api.openFeed("/documents/ws");
    socket.onmessage = (event) => {
      const { name, doc } = JSON.parse(String(event.data)) as { name: string; doc: Doc };
      if (name === "start") {
        start = doc;
        primary = xKey = yKey = imageKey = null;
        grid = null;
        xs = [];
        ys = [];
        last = [];
        image = null;
        time = null;
        lastSeq = 0;
        setPoints(0);
        setSeq(0);
        setRows([]);
        setCells(0);
      } else if (name === "descriptor" && start && doc.name === "primary" && !primary) {
        primary = doc.uid;
        const keys: Record<string, Doc> = doc.data_keys ?? {};
        const motors = hinted(start.motors ?? [], doc);
        const detectors = hinted(start.detectors ?? [], doc).filter((f) => !motors.includes(f));
        xKey = motors[0] ?? null;
        yKey = detectors.find((f) => !(keys[f]?.shape ?? []).length) ?? null;
        // An image sent inline in the events; one in the files a detector writes: `frames`.
        imageKey =
          Object.keys(keys).find((k) => (keys[k].shape ?? []).filter((n: number) => n > 1).length === 2 && !keys[k].external) ??
          null;
        const frames =
          Object.keys(keys).find((k) => (keys[k].shape ?? []).filter((n: number) => n > 1).length >= 2 && keys[k].external) ??
          null;
        const shape: number[] = start.shape ?? [];
        grid = shape.length === 2 && (start.motors ?? []).length === 2 && yKey ? [shape[0], shape[1]] : null;
        snaking = start.snaking ?? [];
        values = grid ? new Array(grid[0] * grid[1]).fill(null) : [];
        const xName = xKey ?? "point";
        const yName = yKey ?? "(no detector field)";
        const columns = Object.keys(keys)
          .filter((k) => !(keys[k].shape ?? []).length)
          .slice(0, 8);
        setRun({
          title: `${start.plan_name ?? "run"} #${start.scan_id ?? ""}`,
          xName,
          yName,
          xKey,
          yKey,
          status: "running",
          total: typeof start.num_points === "number" ? start.num_points : null,
          started: start.time,
          grid,
          image: imageKey,
          frames,
          uid: start.uid,
          columns,
        });
        plot?.destroy();
        plot = null;
        const chartOf = start.uid;
        void lineChart(box.current!, xName, yName).then((chart) => {
          if (closed || start?.uid !== chartOf || plot) return chart.destroy();
          plot = chart;
          chart.setData(decimate(xs, ys)); // the points that came while uPlot loaded
        });
      } else if (name === "event" && doc.descriptor === primary) {
        add(doc.seq_num, xKey ? doc.data[xKey] : doc.seq_num, doc.data, doc.time);
      } else if (name === "event_page" && doc.descriptor === primary) {
        doc.seq_num.forEach((seq: number, i: number) => {
          const data = Object.fromEntries(Object.entries(doc.data as Doc).map(([k, v]) => [k, v[i]]));
          add(seq, xKey ? data[xKey] : seq, data, doc.time[i]);
        });
      } else if (name === "stop" && start && doc.run_start === start.uid) {
        time = doc.time; // the run's end
        setLastTime(time);
        setRun((r) => (r ? { ...r, status: doc.exit_status } : r));
      }
    };
    return () => {
      closed = true;
      redraw.current = () => {};
      closeFeed(socket);
      cancelAnimationFrame(frame);
      plot?.destroy();
    };
  }, [api]);

  const show = (v: unknown) => (typeof v === "number" ? String(Number(v.toPrecision(6))) : String(v ?? ""));
  return (
    <section className="card live" aria-labelledby="live-title">
      <h2 id="live-title">Live run</h2>
      {run ? (
        <>
          <p>
            <strong>{run.title}</strong> · {run.yName} against {run.xName} ·{" "}
            <span data-testid="live-points">{points}</span> points · {run.status}
          </p>
          <Progress run={run} points={points} lastTime={lastTime} />
          {/* A 1-D scan's: a count against its point numbers has no peak to speak of. */}
          {run.status !== "running" && run.xKey && run.yKey && !run.grid && points > 0 && (
            <PeakSummary uid={run.uid} x={run.xKey ?? "seq_num"} y={run.yKey} points={points} />
          )}
        </>
      ) : (
        <p className="muted">The next run is drawn here as it is measured.</p>
      )}
      <div ref={box} className="live-plot" data-points={points} />
      <div className="live-views">
        {run?.grid && (
          <figure className="raster">
            <canvas
              ref={heat}
              className="heatmap"
              width={Math.max(240, run.grid[1] * 16)}
              height={Math.max(180, run.grid[0] * 16)}
              data-rows={run.grid[0]}
              data-cols={run.grid[1]}
              data-cells={cells}
              aria-label={`Heat map of ${run.yName}: ${run.grid[0]} by ${run.grid[1]}`}
              role="img"
            />
            <figcaption className="muted small">
              {run.yName} on the {run.grid[0]} × {run.grid[1]} grid (rows: first motor)
            </figcaption>
          </figure>
        )}
        {run?.image && (
          <figure className="raster">
            <canvas ref={picture} className="image" width={256} height={192} role="img" aria-label={`Image ${run.image}`} />
            <figcaption className="muted small">{run.image}, the latest frame</figcaption>
          </figure>
        )}
        {run?.frames && (
          <FrameView key={run.uid} uid={run.uid} stream="primary" dataKey={run.frames} seq={seq} caption={`${run.frames}, the latest frame`} />
        )}
      </div>
      {run && rows.length > 0 && (
        <div className="table-wrap">
          <table className="history live-table" aria-label="Last points">
            <thead>
              <tr>
                <th scope="col">seq_num</th>
                {run.columns.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.seq_num}>
                  <td>{r.seq_num}</td>
                  {run.columns.map((c) => (
                    <td key={c}>{show(r[c])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
