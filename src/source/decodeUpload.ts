// Browser-only: turns an uploaded file into a source image in [-1, 1] at the loaded model's
// geometry (28x28 grey, or 32x32 colour on white), or a message saying why it cannot be used.
// Nothing in the app changes until this has succeeded.
import { bitmapToRgba, type Rgba } from './browserImage';
import { fitColourToSquare, fitToSquare } from './fitImage';
import { GREY_28, type SourceGeometry } from './geometry';
import { HEADER_BYTES, declaredImageSize, declaredSizeProblem } from './imageHeader';
import { rgbaToGray, rgbaToRgbOnWhite } from './pixels';
import { decodeProblem, uploadProblem } from './uploadCheck';

export type UploadResult =
  { ok: true; pixels: Float32Array; label: string; note: string } | { ok: false; message: string };

/** Longer side the browser shrinks a big picture to before the exact area average. */
const PRESCALE_SIDE = 280;

/** The picture fitted to `geometry`, [-1, 1], with a note on what was done to it. */
export function fitUpload(
  rgba: Rgba,
  geometry: SourceGeometry,
): { pixels: Float32Array; fitted: string } {
  if (geometry.channels === 3) {
    const fit = fitColourToSquare(
      rgbaToRgbOnWhite(rgba.data, rgba.width, rgba.height),
      rgba.width,
      rgba.height,
      geometry.size,
    );
    return {
      pixels: fit.rgb.map((v) => v * 2 - 1),
      fitted: `fitted to ${fit.placed.width}x${fit.placed.height} on white`,
    };
  }
  const fit = fitToSquare(
    rgbaToGray(rgba.data, rgba.width, rgba.height),
    rgba.width,
    rgba.height,
    geometry.size,
  );
  return {
    pixels: fit.gray.map((v) => v * 2 - 1),
    fitted:
      `fitted to ${fit.placed.width}x${fit.placed.height}` +
      (fit.inverted ? ', colours inverted (light background) to match the training data' : ''),
  };
}

export async function decodeUpload(
  file: File,
  geometry: SourceGeometry = GREY_28,
): Promise<UploadResult> {
  const problem = uploadProblem(file);
  if (problem) return { ok: false, message: problem };
  // A huge picture in a small file is refused from its header, before the browser inflates it.
  const header = new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer());
  const tooBig = declaredSizeProblem(file.name, declaredImageSize(header));
  if (tooBig) return { ok: false, message: tooBig };
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return {
      ok: false,
      message: `${file.name || 'The file'} could not be read as an image. Choose a PNG, JPEG, GIF, WebP or BMP file.`,
    };
  }
  try {
    const sizeProblem = decodeProblem(file.name, bitmap.width, bitmap.height);
    if (sizeProblem) return { ok: false, message: sizeProblem };
    const rgba = bitmapToRgba(bitmap, PRESCALE_SIDE);
    const { pixels, fitted } = fitUpload(rgba, geometry);
    const note = `${bitmap.width}x${bitmap.height} ${fitted}`;
    return { ok: true, pixels, label: `Uploaded ${file.name || 'image'}`, note };
  } finally {
    bitmap.close();
  }
}
