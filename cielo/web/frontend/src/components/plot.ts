// One look for every x-y line plot of the application (live and stored runs), drawn by uPlot.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** Points drawn with a marker each, at most (beyond: the line only). */
const MARKERS = 300;
/** Points drawn at most per frame: beyond, each bucket of points is drawn as its extremes. */
export const MAX_DRAWN = 2000;

/**
 * At most about `MAX_DRAWN` points of (`xs`, `ys`) that draw the same line at plot
 * resolution: each bucket of consecutive points keeps its lowest and highest point, in
 * order (a peak or a dip is never dropped). Below the limit, the points themselves.
 */
export function decimate(xs: number[], ys: number[]): [number[], number[]] {
  const n = xs.length;
  if (n <= MAX_DRAWN) return [xs, ys];
  const size = Math.ceil((2 * n) / MAX_DRAWN);
  const dx: number[] = [];
  const dy: number[] = [];
  for (let start = 0; start < n; start += size) {
    const end = Math.min(n, start + size);
    let lo = start;
    let hi = start;
    for (let i = start + 1; i < end; i++) {
      if (ys[i] < ys[lo]) lo = i;
      if (ys[i] > ys[hi]) hi = i;
    }
    for (const i of lo === hi ? [lo] : lo < hi ? [lo, hi] : [hi, lo]) {
      dx.push(xs[i]);
      dy.push(ys[i]);
    }
  }
  return [dx, dy];
}

/** A line plot of `yName` against `xName` in `box`, as wide as the box; empty until given data. */
export function lineChart(box: HTMLElement, xName: string, yName: string, height = 260): uPlot {
  const width = Math.max(box.clientWidth || 600, 300);
  return new uPlot(
    {
      width,
      height,
      scales: { x: { time: false } },
      series: [
        { label: xName },
        // Markers only while they can be told apart: thousands of them cost each frame.
        { label: yName, stroke: "#1d4e89", width: 2, points: { show: (u) => u.data[0].length <= MARKERS, size: 5 } },
      ],
      axes: [{ label: xName }, { label: yName }],
    },
    [[], []],
    box,
  );
}
