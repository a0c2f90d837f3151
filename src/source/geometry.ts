// The shape of a source image: size x size pixels of `channels` values each (HWC, row-major),
// following the loaded model (28x28 grey for the class models, 32x32 RGB for emoji). The mask is
// always size x size, one value per pixel.
import { IMAGE_SIZE } from './grid';

export interface SourceGeometry {
  size: number;
  channels: 1 | 3;
}

/** The class models' images, and the geometry of data saved before geometry was recorded. */
export const GREY_28: SourceGeometry = { size: IMAGE_SIZE, channels: 1 };

/** Largest image side the source accepts (anything bigger is not a model of this playground). */
export const MAX_SOURCE_SIZE = 256;

export const pixelCount = (g: SourceGeometry): number => g.size * g.size;
export const valueCount = (g: SourceGeometry): number => g.size * g.size * g.channels;

export function sameGeometry(a: SourceGeometry, b: SourceGeometry): boolean {
  return a.size === b.size && a.channels === b.channels;
}

export function isGeometry(value: unknown): value is SourceGeometry {
  if (typeof value !== 'object' || value === null) return false;
  const { size, channels } = value as Record<string, unknown>;
  return (
    typeof size === 'number' &&
    Number.isInteger(size) &&
    size > 0 &&
    size <= MAX_SOURCE_SIZE &&
    (channels === 1 || channels === 3)
  );
}

/** The geometry of a model's images; null (no model yet) or an odd model keeps `fallback`. */
export function geometryOfModel(
  model: { imageSize: number; channels: number } | null,
  fallback: SourceGeometry = GREY_28,
): SourceGeometry {
  if (!model) return fallback;
  const candidate = { size: model.imageSize, channels: model.channels };
  return isGeometry(candidate) ? candidate : fallback;
}

/**
 * The square geometry a flat array of `length` values has, grey or RGB, or null. Unambiguous:
 * no whole number is both a square and three times a square.
 */
export function geometryOfLength(length: number): SourceGeometry | null {
  const grey = Math.round(Math.sqrt(length));
  if (grey > 0 && grey * grey === length && grey <= MAX_SOURCE_SIZE) {
    return { size: grey, channels: 1 };
  }
  const rgb = Math.round(Math.sqrt(length / 3));
  if (rgb > 0 && rgb * rgb * 3 === length && rgb <= MAX_SOURCE_SIZE) {
    return { size: rgb, channels: 3 };
  }
  return null;
}

export const describeGeometry = (g: SourceGeometry): string =>
  `${g.size}×${g.size} ${g.channels === 3 ? 'colour' : 'grey'}`;
