// The colour tables the GIF encoder uses, and pixels turned into indices into them. Gray images
// (MNIST, Fashion-MNIST) get all 256 gray levels, so they round-trip exactly; colour images get a
// fixed 6×7×6 cube (252 colours: the eye separates greens best), nearest level per channel, no
// dithering (dither noise would flicker from frame to frame).

export type PaletteKind = 'gray' | 'rgb676';

/** An image to encode: 1 byte per pixel (gray) or 4 (RGBA; alpha is ignored: GIFs are opaque). */
export interface GifImage {
  width: number;
  height: number;
  format: 'gray' | 'rgba';
  pixels: Uint8Array | Uint8ClampedArray;
}

const LEVELS = [6, 7, 6] as const;

/** 256 RGB triples (768 bytes), the size a GIF colour table with 8-bit indices has. */
export function paletteColours(kind: PaletteKind): Uint8Array {
  const table = new Uint8Array(256 * 3);
  if (kind === 'gray') {
    for (let i = 0; i < 256; i++) table[i * 3] = table[i * 3 + 1] = table[i * 3 + 2] = i;
    return table;
  }
  const [nr, ng, nb] = LEVELS;
  for (let r = 0; r < nr; r++) {
    for (let g = 0; g < ng; g++) {
      for (let b = 0; b < nb; b++) {
        const i = (r * ng + g) * nb + b;
        table[i * 3] = Math.round((r * 255) / (nr - 1));
        table[i * 3 + 1] = Math.round((g * 255) / (ng - 1));
        table[i * 3 + 2] = Math.round((b * 255) / (nb - 1));
      }
    }
  }
  return table;
}

/** True when every pixel is a shade of gray, so the 256-gray table shows it exactly. */
export function isGray(image: GifImage): boolean {
  if (image.format === 'gray') return true;
  const p = image.pixels;
  for (let i = 0; i < p.length; i += 4) {
    if (p[i] !== p[i + 1] || p[i] !== p[i + 2]) return false;
  }
  return true;
}

export function checkImage(image: GifImage, what: string): void {
  const { width, height, format, pixels } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${what}: size ${width}×${height} is not a positive whole size`);
  }
  if (width > 0xffff || height > 0xffff) {
    throw new Error(`${what}: ${width}×${height} is larger than a GIF allows (65535)`);
  }
  const expected = width * height * (format === 'gray' ? 1 : 4);
  if (pixels.length !== expected) {
    throw new Error(
      `${what}: ${pixels.length} bytes for ${width}×${height} ${format}, expected ${expected}`,
    );
  }
}

/** One palette index per pixel. */
export function paletteIndices(image: GifImage, kind: PaletteKind): Uint8Array {
  const count = image.width * image.height;
  const p = image.pixels;
  const out = new Uint8Array(count);
  if (image.format === 'gray') {
    if (kind === 'gray') {
      out.set(p);
      return out;
    }
    for (let i = 0; i < count; i++) out[i] = cubeIndex(p[i], p[i], p[i]);
    return out;
  }
  for (let i = 0; i < count; i++) {
    const r = p[i * 4];
    const g = p[i * 4 + 1];
    const b = p[i * 4 + 2];
    if (kind === 'rgb676') out[i] = cubeIndex(r, g, b);
    else if (r === g && g === b) out[i] = r;
    // A gray table shows colour as its luma (Rec. 601 weights).
    else out[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
  }
  return out;
}

function cubeIndex(r: number, g: number, b: number): number {
  const [nr, ng, nb] = LEVELS;
  const ri = Math.round((r * (nr - 1)) / 255);
  const gi = Math.round((g * (ng - 1)) / 255);
  const bi = Math.round((b * (nb - 1)) / 255);
  return (ri * ng + gi) * nb + bi;
}
