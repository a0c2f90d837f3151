// Checks an uploaded file before decoding it, so a wrong or huge file is refused with a message
// the user can act on instead of a stalled tab or a silent failure.
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

export interface FileFacts {
  name: string;
  size: number;
  /** MIME type as the browser guessed it; may be empty. */
  type: string;
}

/** A message for a file that cannot be used, or null when decoding may be attempted. */
export function uploadProblem(file: FileFacts): string | null {
  const name = file.name || 'The file';
  if (file.size === 0) return `${name} is empty (0 bytes).`;
  if (file.size > MAX_UPLOAD_BYTES) {
    const mb = (file.size / (1024 * 1024)).toFixed(1);
    return `${name} is ${mb} MB; images up to 20 MB can be used.`;
  }
  // Browsers leave the type empty for unknown extensions: let the decoder decide then.
  if (file.type && !file.type.startsWith('image/')) {
    return `${name} is not an image (${file.type}). Choose a PNG, JPEG, GIF, WebP or BMP file.`;
  }
  return null;
}

export function decodeProblem(name: string, width: number, height: number): string | null {
  if (!(width > 0 && height > 0))
    return `${name || 'The image'} has no pixels (${width}x${height}).`;
  return null;
}
