// An area detector's image, fetched from /api/runs/{uid}/streams/{stream}/frames/{key}
// and drawn as pixels: frame `seq` of a stored run, or, while a run goes on, the last
// event seen. One request at a time and at most one every MIN_GAP_MS: a fast detector
// skips frames, never queues them. A frame the worker has not stored yet is asked for
// again a moment later.

import { useEffect, useRef, useState } from "react";
import { Refused, errorText } from "../api";
import type { Frame } from "../api";
import { useServer } from "../server";
import { drawFrame } from "./raster";

/** The least time (ms) between two frame requests. */
export const MIN_GAP_MS = 150;

/** The image plane of a frame: its last two axes (the first plane of a stack). */
function plane(shape: number[]): [number, number] {
  return shape.length >= 2 ? [shape[shape.length - 2], shape[shape.length - 1]] : [1, shape[0] ?? 0];
}

export function FrameView(props: { uid: string; stream: string; dataKey: string; seq: number; caption?: string }) {
  const { api } = useServer();
  const { uid, stream, dataKey, seq } = props;
  const canvas = useRef<HTMLCanvasElement>(null);
  const [shown, setShown] = useState<Frame | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The request loop reads the newest wanted seq from here, not from a stale closure.
  const wanted = useRef(seq);
  const kick = useRef<() => void>(() => {});
  wanted.current = seq;

  useEffect(() => {
    let stopped = false;
    let busy = false;
    let have = 0;
    let timer: number | undefined;
    let lastAsked = 0;
    const next = () => {
      if (stopped || busy || wanted.current === have || wanted.current < 1) return;
      const wait = lastAsked + MIN_GAP_MS - performance.now();
      if (wait > 0) {
        window.clearTimeout(timer);
        timer = window.setTimeout(next, wait);
        return;
      }
      busy = true;
      lastAsked = performance.now();
      const asked = wanted.current;
      api
        .frame(uid, stream, dataKey, asked)
        .then((frame) => {
          if (stopped) return;
          have = frame.seq;
          const [rows, cols] = plane(frame.shape);
          if (canvas.current) drawFrame(canvas.current, frame.values, rows, cols);
          setShown(frame);
          setError(null);
        })
        .catch((err) => {
          if (stopped) return;
          // Not stored yet (the worker commits every half second): asked again below.
          if (err instanceof Refused && /stored yet/.test(err.message)) return;
          have = asked; // this frame cannot be read: the next one may be
          setError(errorText(err));
        })
        .finally(() => {
          busy = false;
          if (!stopped) {
            window.clearTimeout(timer);
            timer = window.setTimeout(next, MIN_GAP_MS);
          }
        });
    };
    kick.current = next;
    next();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [api, uid, stream, dataKey]);

  useEffect(() => kick.current(), [seq]);

  const [rows, cols] = shown ? plane(shown.shape) : [0, 0];
  return (
    <figure className="raster">
      <canvas
        ref={canvas}
        className="frame"
        role="img"
        aria-label={`Image ${dataKey}`}
        data-seq={shown?.seq ?? 0}
        width={1}
        height={1}
      />
      <figcaption className="muted small">
        {props.caption ?? dataKey}
        {shown ? ` · frame ${shown.seq} · ${cols} × ${rows} · ${shown.dtype}` : " · waiting for the first frame"}
        {error && (
          <span role="alert" className="error">
            {" "}
            {error}
          </span>
        )}
      </figcaption>
    </figure>
  );
}
