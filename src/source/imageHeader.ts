// The pixel size an image file declares in its header, read before the browser decodes it: a
// small file can declare a huge picture (a few MB of PNG can inflate to 30000x30000 pixels,
// 3.6 GB of RGBA), and decoding that would take the tab down. PNG, GIF, BMP, WebP and JPEG.

/** Pictures above this many pixels are refused before decoding (8000x8000). */
export const MAX_UPLOAD_PIXELS = 64_000_000;

/** How much of the file is read to find the size: JPEG's may follow a large EXIF block. */
export const HEADER_BYTES = 256 * 1024;

export interface DeclaredSize {
  format: 'PNG' | 'GIF' | 'BMP' | 'WebP' | 'JPEG';
  width: number;
  height: number;
}

const ascii = (bytes: Uint8Array, at: number, length: number) =>
  String.fromCharCode(...bytes.subarray(at, at + length));

function jpegSize(bytes: Uint8Array, view: DataView): DeclaredSize | null {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    // Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { format: 'JPEG', height: view.getUint16(at + 5), width: view.getUint16(at + 7) };
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image, start of scan
    const standalone = marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);
    at += standalone ? 2 : 2 + view.getUint16(at + 2);
  }
  return null;
}

function webpSize(bytes: Uint8Array, view: DataView): DeclaredSize | null {
  const chunk = ascii(bytes, 12, 4);
  const size = (width: number, height: number): DeclaredSize => ({ format: 'WebP', width, height });
  if (chunk === 'VP8 ' && bytes.length >= 30) {
    return size(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
  }
  if (chunk === 'VP8L' && bytes.length >= 25) {
    const [b0, b1, b2, b3] = bytes.subarray(21, 25);
    return size(1 + (b0 | ((b1 & 0x3f) << 8)), 1 + ((b1 >> 6) | (b2 << 2) | ((b3 & 0x0f) << 10)));
  }
  if (chunk === 'VP8X' && bytes.length >= 30) {
    const u24 = (at: number) => bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16);
    return size(1 + u24(24), 1 + u24(27));
  }
  return null;
}

/** The size the header declares, or null when the format is not one of these or is cut short. */
export function declaredImageSize(bytes: Uint8Array): DeclaredSize | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 24 && ascii(bytes, 1, 3) === 'PNG' && ascii(bytes, 12, 4) === 'IHDR') {
    return { format: 'PNG', width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (bytes.length >= 10 && /^GIF8[79]a$/.test(ascii(bytes, 0, 6))) {
    return { format: 'GIF', width: view.getUint16(6, true), height: view.getUint16(8, true) };
  }
  if (bytes.length >= 26 && ascii(bytes, 0, 2) === 'BM') {
    const width = Math.abs(view.getInt32(18, true));
    const height = Math.abs(view.getInt32(22, true)); // negative: stored top-down
    return { format: 'BMP', width, height };
  }
  if (bytes.length >= 16 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') {
    return webpSize(bytes, view);
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegSize(bytes, view);
  return null;
}

/** A message for a picture too big to decode safely, or null. */
export function declaredSizeProblem(name: string, size: DeclaredSize | null): string | null {
  if (!size) return null;
  const { format, width, height } = size;
  if (width * height <= MAX_UPLOAD_PIXELS) return null;
  const megapixels = Math.round((width * height) / 1e6);
  return (
    `${name || 'The image'} is a ${format} of ${width}x${height} pixels (${megapixels} megapixels); ` +
    `pictures up to ${MAX_UPLOAD_PIXELS / 1e6} megapixels can be used.`
  );
}
