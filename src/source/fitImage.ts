// Fits an arbitrary image into the square the model takes (28x28 grey, 32x32 colour): the longer
// side becomes the model's size, the aspect ratio is kept, the rest is padded with the background
// (black behind the grey models' light strokes, white behind the colour emoji). Downscaling
// averages areas (each output pixel is the coverage-weighted mean of the input pixels under it),
// so thin strokes fade instead of vanishing the way nearest-neighbour sampling would drop them.
import { IMAGE_SIZE } from './grid';

export interface FitResult {
  /** size x size values in [0, 1], 0 = black. */
  gray: Float32Array;
  /** Where the image landed inside the square. */
  placed: { x: number; y: number; width: number; height: number };
  /** Whether the colours were flipped to put a light background behind light strokes. */
  inverted: boolean;
}

/** Coverage weights of input cells [0, inSize) under each of outSize equal output cells. */
function areaWeights(inSize: number, outSize: number): Array<Array<[number, number]>> {
  const scale = inSize / outSize;
  const rows: Array<Array<[number, number]>> = [];
  for (let o = 0; o < outSize; o++) {
    const start = o * scale;
    const end = (o + 1) * scale;
    const row: Array<[number, number]> = [];
    for (let i = Math.floor(start); i < Math.min(Math.ceil(end), inSize); i++) {
      const overlap = Math.min(end, i + 1) - Math.max(start, i);
      if (overlap > 0) row.push([i, overlap / scale]);
    }
    rows.push(row);
  }
  return rows;
}

/** Area-average resampling of a width x height image to outWidth x outHeight. */
export function resizeArea(
  gray: Float32Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Float32Array {
  const xWeights = areaWeights(width, outWidth);
  const yWeights = areaWeights(height, outHeight);
  const rows = new Float32Array(height * outWidth);
  for (let y = 0; y < height; y++) {
    for (let ox = 0; ox < outWidth; ox++) {
      let sum = 0;
      for (const [x, w] of xWeights[ox]) sum += gray[y * width + x] * w;
      rows[y * outWidth + ox] = sum;
    }
  }
  const out = new Float32Array(outWidth * outHeight);
  for (let oy = 0; oy < outHeight; oy++) {
    for (let ox = 0; ox < outWidth; ox++) {
      let sum = 0;
      for (const [y, w] of yWeights[oy]) sum += rows[y * outWidth + ox] * w;
      out[oy * outWidth + ox] = sum;
    }
  }
  return out;
}

/** Mean of the outermost ring of pixels: the image's background colour, near enough. */
export function borderMean(gray: Float32Array, width: number, height: number): number {
  let sum = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y === 0 || y === height - 1 || x === 0 || x === width - 1) {
        sum += gray[y * width + x];
        count++;
      }
    }
  }
  return count ? sum / count : 0;
}

/**
 * The models were trained on light strokes on black, so a dark-on-light picture (ink on paper,
 * a screenshot) is inverted first when its border is mostly light.
 */
export function fitToSquare(
  gray: Float32Array,
  width: number,
  height: number,
  size = IMAGE_SIZE,
): FitResult {
  if (!(width > 0 && height > 0)) throw new Error(`The image is empty (${width}x${height})`);
  if (gray.length !== width * height) {
    throw new Error(`Expected ${width * height} pixels, got ${gray.length}`);
  }
  const inverted = borderMean(gray, width, height) > 0.5;
  const source = inverted ? gray.map((v) => 1 - v) : gray;
  const scale = size / Math.max(width, height);
  const fitWidth = Math.max(1, Math.min(size, Math.round(width * scale)));
  const fitHeight = Math.max(1, Math.min(size, Math.round(height * scale)));
  const resized = resizeArea(source, width, height, fitWidth, fitHeight);
  const x0 = Math.floor((size - fitWidth) / 2);
  const y0 = Math.floor((size - fitHeight) / 2);
  const out = new Float32Array(size * size);
  for (let y = 0; y < fitHeight; y++) {
    out.set(resized.subarray(y * fitWidth, (y + 1) * fitWidth), (y0 + y) * size + x0);
  }
  return { gray: out, placed: { x: x0, y: y0, width: fitWidth, height: fitHeight }, inverted };
}

export interface ColourFitResult {
  /** size x size x 3 values in [0, 1] (HWC), 1 = white. */
  rgb: Float32Array;
  placed: { x: number; y: number; width: number; height: number };
}

/**
 * An RGB picture (HWC, [0, 1]) fitted into a size x size square on white, the way the emoji the
 * colour model learnt from were composited. Colours are kept as they are: the dark-background
 * inversion above is for the grey digit models only.
 */
export function fitColourToSquare(
  rgb: Float32Array,
  width: number,
  height: number,
  size: number,
): ColourFitResult {
  if (!(width > 0 && height > 0)) throw new Error(`The image is empty (${width}x${height})`);
  if (rgb.length !== width * height * 3) {
    throw new Error(`Expected ${width * height * 3} values, got ${rgb.length}`);
  }
  const scale = size / Math.max(width, height);
  const fitWidth = Math.max(1, Math.min(size, Math.round(width * scale)));
  const fitHeight = Math.max(1, Math.min(size, Math.round(height * scale)));
  const x0 = Math.floor((size - fitWidth) / 2);
  const y0 = Math.floor((size - fitHeight) / 2);
  const out = new Float32Array(size * size * 3).fill(1);
  const plane = new Float32Array(width * height);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane.length; i++) plane[i] = rgb[3 * i + c];
    const resized = resizeArea(plane, width, height, fitWidth, fitHeight);
    for (let y = 0; y < fitHeight; y++) {
      for (let x = 0; x < fitWidth; x++) {
        out[3 * ((y0 + y) * size + x0 + x) + c] = resized[y * fitWidth + x];
      }
    }
  }
  return { rgb: out, placed: { x: x0, y: y0, width: fitWidth, height: fitHeight } };
}
