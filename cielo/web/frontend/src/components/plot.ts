// One look for every x-y line plot of the application (live and stored runs), drawn by uPlot.
// uPlot (./chart) is loaded when the first plot is drawn, not with the first page.

import type uPlot from "uplot";

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
export async function lineChart(box: HTMLElement, xName: string, yName: string, height = 260): Promise<uPlot> {
  const { makeChart } = await import("./chart");
  return makeChart(box, xName, yName, height);
}
