// Browser-only: fetches the example index and sprite once and cuts examples out of it.
import { bitmapToRgba } from './browserImage';
import { cellBytes, parseExamplesIndex, type ExamplesIndex } from './examplesIndex';
import { bytesToSigned } from './pixels';

export interface LoadedExamples {
  index: ExamplesIndex;
  spriteUrl: string;
  /** [-1, 1] pixels of one example cell. */
  pixelsOf(cell: number): Float32Array;
}

let pending: Promise<LoadedExamples> | null = null;

async function load(baseUrl: string): Promise<LoadedExamples> {
  const folder = `${baseUrl}examples/`;
  const response = await fetch(`${folder}index.json`);
  if (!response.ok) throw new Error(`examples/index.json: HTTP ${response.status}`);
  const index = parseExamplesIndex(await response.json());
  const spriteUrl = `${folder}${index.sprite}`;
  const spriteResponse = await fetch(spriteUrl);
  if (!spriteResponse.ok)
    throw new Error(`examples/${index.sprite}: HTTP ${spriteResponse.status}`);
  const bitmap = await createImageBitmap(await spriteResponse.blob(), {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  const rgba = bitmapToRgba(bitmap);
  bitmap.close();
  return {
    index,
    spriteUrl,
    pixelsOf: (cell) => bytesToSigned(cellBytes(index, rgba.data, rgba.width, cell)),
  };
}

/** Loads once per page; a failed load is retried on the next call. */
export function loadExamples(baseUrl: string = import.meta.env.BASE_URL): Promise<LoadedExamples> {
  if (!pending) {
    pending = load(baseUrl).catch((error: unknown) => {
      pending = null;
      throw error;
    });
  }
  return pending;
}
