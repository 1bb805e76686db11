// The uPlot line chart behind plot.ts's lineChart (its own chunk: loaded with the first plot).

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** Points drawn with a marker each, at most (beyond: the line only). */
const MARKERS = 300;

export function makeChart(box: HTMLElement, xName: string, yName: string, height: number): uPlot {
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
