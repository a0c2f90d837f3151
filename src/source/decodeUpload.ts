// Browser-only: turns an uploaded file into a 28x28 source image in [-1, 1], or a message saying
// why it cannot be used. Nothing in the app changes until this has succeeded.
import { bitmapToRgba } from './browserImage';
import { fitToSquare } from './fitImage';
import { HEADER_BYTES, declaredImageSize, declaredSizeProblem } from './imageHeader';
import { rgbaToGray } from './pixels';
import { decodeProblem, uploadProblem } from './uploadCheck';

export type UploadResult =
  { ok: true; pixels: Float32Array; label: string; note: string } | { ok: false; message: string };

/** Longer side the browser shrinks a big picture to before the exact area average. */
const PRESCALE_SIDE = 280;

export async function decodeUpload(file: File): Promise<UploadResult> {
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
    const fit = fitToSquare(
      rgbaToGray(rgba.data, rgba.width, rgba.height),
      rgba.width,
      rgba.height,
    );
    const pixels = fit.gray.map((v) => v * 2 - 1);
    const note =
      `${bitmap.width}x${bitmap.height} fitted to ${fit.placed.width}x${fit.placed.height}` +
      (fit.inverted ? ', colours inverted (light background) to match the training data' : '');
    return { ok: true, pixels, label: `Uploaded ${file.name || 'image'}`, note };
  } finally {
    bitmap.close();
  }
}
