// One look for every x-y line plot of the application (live and stored runs), drawn by uPlot.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** A line plot of `yName` against `xName` in `box`, as wide as the box; empty until given data. */
export function lineChart(box: HTMLElement, xName: string, yName: string, height = 260): uPlot {
  const width = Math.max(box.clientWidth || 600, 300);
  return new uPlot(
    {
      width,
      height,
      scales: { x: { time: false } },
      series: [{ label: xName }, { label: yName, stroke: "#1d4e89", width: 2, points: { show: true, size: 5 } }],
      axes: [{ label: xName }, { label: yName }],
    },
    [[], []],
    box,
  );
}
