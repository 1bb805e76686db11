// Arrays drawn as pixels on a canvas: a grid scan's heat map as it fills, an area
// detector's image. One grey-to-blue-to-yellow colour scale; empty cells stay blank.

/** The colour of `t` in [0, 1] (dark blue, through teal, to yellow: brighter is larger). */
export function colour(t: number): [number, number, number] {
  const s = Math.min(1, Math.max(0, t));
  const stops: [number, number, number][] = [
    [13, 8, 135],
    [33, 145, 140],
    [253, 231, 37],
  ];
  const x = s * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(stops[i][c] + f * (stops[i + 1][c] - stops[i][c]))) as [
    number,
    number,
    number,
  ];
}

/**
 * Draw `values` (row-major, `rows` x `cols`; `null`: not measured yet) scaled to the canvas,
 * each value one cell, coloured between the smallest and largest measured value.
 */
export function drawCells(canvas: HTMLCanvasElement, values: (number | null)[], rows: number, cols: number): void {
  const ctx = canvas.getContext("2d");
  if (!ctx || rows <= 0 || cols <= 0) return;
  const measured = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const lo = Math.min(...measured);
  const span = Math.max(...measured) - lo || 1;
  const image = ctx.createImageData(cols, rows);
  values.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v) || i >= rows * cols) return;
    const [r, g, b] = colour((v - lo) / span);
    image.data.set([r, g, b, 255], i * 4);
  });
  // Drawn at one pixel per cell, then scaled up without smoothing: crisp cells.
  const small = document.createElement("canvas");
  small.width = cols;
  small.height = rows;
  small.getContext("2d")!.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

/** A 2-D array (or a 1 x N x M stack) as rows and columns, else null. */
export function asImage(value: unknown): number[][] | null {
  let v = value;
  if (Array.isArray(v) && v.length === 1 && Array.isArray(v[0]) && Array.isArray(v[0][0])) v = v[0];
  if (!Array.isArray(v) || !v.length || !Array.isArray(v[0])) return null;
  return v as number[][];
}
