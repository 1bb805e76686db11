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

/** `colour()` at 256 steps, for images (t is rounded to the nearest step). */
let LUT: Uint8ClampedArray | null = null;
function lut(): Uint8ClampedArray {
  if (!LUT) {
    LUT = new Uint8ClampedArray(256 * 3);
    for (let i = 0; i < 256; i++) LUT.set(colour(i / 255), i * 3);
  }
  return LUT;
}

/**
 * Draw the first `rows` x `cols` plane of `values` (C order) on `canvas` at one pixel per
 * value (the canvas takes that size; CSS scales it up, pixelated), coloured between the
 * plane's smallest and largest finite value. Non-finite values are left transparent.
 */
export function drawFrame(canvas: HTMLCanvasElement, values: ArrayLike<number>, rows: number, cols: number): void {
  if (canvas.width !== cols || canvas.height !== rows) {
    canvas.width = cols;
    canvas.height = rows;
  }
  const ctx = canvas.getContext("2d");
  if (!ctx || rows <= 0 || cols <= 0) return;
  const n = rows * cols;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const table = lut();
  const image = ctx.createImageData(cols, rows);
  const px = image.data;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    const at = 3 * Math.round((v - lo) * scale);
    px[4 * i] = table[at];
    px[4 * i + 1] = table[at + 1];
    px[4 * i + 2] = table[at + 2];
    px[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}
