// Lays a batch of images (view bytes from the worker, NHWC) out as one RGBA grid: the pixels a
// view's canvas shows and an exported PNG contains.

/** Pixels between neighbouring images in the grid. */
export const GRID_GAP = 1;
const GAP_SHADE = 96;

export interface GridLayout {
  cols: number;
  rows: number;
  width: number;
  height: number;
}

export function gridLayout(batch: number, height: number, width: number): GridLayout {
  const cols = Math.ceil(Math.sqrt(batch));
  const rows = Math.ceil(batch / cols);
  return {
    cols,
    rows,
    width: cols * width + (cols - 1) * GRID_GAP,
    height: rows * height + (rows - 1) * GRID_GAP,
  };
}

/** RGBA pixels of the grid; 1 channel shows as gray, 3 as colour. */
export function gridPixels(
  bytes: Uint8Array,
  batch: number,
  height: number,
  width: number,
  channels: number,
): { layout: GridLayout; rgba: Uint8ClampedArray<ArrayBuffer> } {
  const layout = gridLayout(batch, height, width);
  const rgba = new Uint8ClampedArray(layout.width * layout.height * 4);
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = rgba[i + 1] = rgba[i + 2] = GAP_SHADE;
    rgba[i + 3] = 255;
  }
  for (let b = 0; b < batch; b++) {
    const x0 = (b % layout.cols) * (width + GRID_GAP);
    const y0 = Math.floor(b / layout.cols) * (height + GRID_GAP);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const src = ((b * height + y) * width + x) * channels;
        const dst = ((y0 + y) * layout.width + x0 + x) * 4;
        if (channels >= 3) {
          rgba[dst] = bytes[src];
          rgba[dst + 1] = bytes[src + 1];
          rgba[dst + 2] = bytes[src + 2];
        } else {
          rgba[dst] = rgba[dst + 1] = rgba[dst + 2] = bytes[src];
        }
      }
    }
  }
  return { layout, rgba };
}
