// The running scan drawn live from the documents the server streams (/api/documents/ws):
// the first hinted detector field against the first motor (or the point number). Points
// are gathered as they come and drawn at most once per animation frame, so a fast scan
// makes the drawing coarser, never late.

import { useEffect, useRef, useState } from "react";
import type uPlot from "uplot";
import { useServer } from "../server";
import { lineChart } from "./plot";

type Doc = Record<string, any>;

interface Run {
  title: string;
  xName: string;
  yName: string;
  status: string;
}

/** The field to plot for each of `names` (a device's hinted fields, else the name itself). */
function hinted(names: string[], descriptor: Doc): string[] {
  const hints: Record<string, { fields?: string[] }> = descriptor.hints ?? {};
  return names.flatMap((n) => hints[n]?.fields ?? (n in (descriptor.data_keys ?? {}) ? [n] : []));
}

export function LivePlot() {
  const { api } = useServer();
  const box = useRef<HTMLDivElement>(null);
  const [run, setRun] = useState<Run | null>(null);
  const [points, setPoints] = useState(0);

  useEffect(() => {
    let start: Doc | null = null;
    let primary: string | null = null;
    let xKey: string | null = null;
    let yKey: string | null = null;
    let xs: number[] = [];
    let ys: number[] = [];
    let plot: uPlot | null = null;
    let frame = 0;

    const draw = () => {
      frame = 0;
      plot?.setData([xs, ys]);
      setPoints(xs.length);
    };
    const add = (x: number, y: unknown) => {
      if (typeof y !== "number") return;
      xs.push(x);
      ys.push(y);
      if (!frame) frame = requestAnimationFrame(draw);
    };
    const newPlot = (xName: string, yName: string) => {
      plot?.destroy();
      plot = lineChart(box.current!, xName, yName);
    };

    const socket = new WebSocket(api.feedUrl("/documents/ws"));
    socket.onmessage = (event) => {
      const { name, doc } = JSON.parse(String(event.data)) as { name: string; doc: Doc };
      if (name === "start") {
        start = doc;
        primary = xKey = yKey = null;
        xs = [];
        ys = [];
        setPoints(0);
      } else if (name === "descriptor" && start && doc.name === "primary" && !primary) {
        primary = doc.uid;
        const motors = hinted(start.motors ?? [], doc);
        const detectors = hinted(start.detectors ?? [], doc).filter((f) => !motors.includes(f));
        xKey = motors[0] ?? null;
        yKey = detectors[0] ?? null;
        const xName = xKey ?? "point";
        const yName = yKey ?? "(no detector field)";
        setRun({ title: `${start.plan_name ?? "run"} #${start.scan_id ?? ""}`, xName, yName, status: "running" });
        newPlot(xName, yName);
      } else if (name === "event" && doc.descriptor === primary && yKey) {
        add(xKey ? doc.data[xKey] : doc.seq_num, doc.data[yKey]);
      } else if (name === "event_page" && doc.descriptor === primary && yKey) {
        const ysPage: unknown[] = doc.data[yKey] ?? [];
        ysPage.forEach((y, i) => add(xKey ? doc.data[xKey][i] : doc.seq_num[i], y));
      } else if (name === "stop" && start && doc.run_start === start.uid) {
        setRun((r) => (r ? { ...r, status: doc.exit_status } : r));
      }
    };
    return () => {
      socket.close();
      cancelAnimationFrame(frame);
      plot?.destroy();
    };
  }, [api]);

  return (
    <section className="card live" aria-labelledby="live-title">
      <h2 id="live-title">Live run</h2>
      {run ? (
        <p>
          <strong>{run.title}</strong> · {run.yName} against {run.xName} ·{" "}
          <span data-testid="live-points">{points}</span> points · {run.status}
        </p>
      ) : (
        <p className="muted">The next run is drawn here as it is measured.</p>
      )}
      <div ref={box} className="live-plot" data-points={points} />
    </section>
  );
}
