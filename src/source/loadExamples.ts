// Browser-only: fetches the example index and each data set's sprite once, and cuts examples out
// of them at the data set's own geometry (28x28 grey, 32x32 RGB).
import { bitmapToRgba, type Rgba } from './browserImage';
import {
  cellBytes,
  datasetOf,
  exampleGeometry,
  parseExamplesIndex,
  type ExampleImage,
  type ExamplesIndex,
} from './examplesIndex';
import type { SourceGeometry } from './geometry';
import { bytesToSigned } from './pixels';

export interface LoadedExamples {
  index: ExamplesIndex;
  /** URL of a sprite file named in the index. */
  spriteUrl(sprite: string): string;
  /** [-1, 1] pixels of one example (HWC) and the geometry they have. */
  pixelsOf(example: ExampleImage): { pixels: Float32Array; geometry: SourceGeometry };
}

let pending: Promise<LoadedExamples> | null = null;

async function fetchRgba(url: string, name: string): Promise<Rgba> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`examples/${name}: HTTP ${response.status}`);
  const bitmap = await createImageBitmap(await response.blob(), {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  try {
    return bitmapToRgba(bitmap);
  } finally {
    bitmap.close();
  }
}

async function load(baseUrl: string): Promise<LoadedExamples> {
  const folder = `${baseUrl}examples/`;
  const response = await fetch(`${folder}index.json`);
  if (!response.ok) throw new Error(`examples/index.json: HTTP ${response.status}`);
  const index = parseExamplesIndex(await response.json());
  const spriteUrl = (sprite: string) => `${folder}${sprite}`;
  const names = [...new Set(index.datasets.map((d) => d.sprite))];
  const sprites = new Map<string, Rgba>();
  await Promise.all(
    names.map(async (name) => sprites.set(name, await fetchRgba(spriteUrl(name), name))),
  );
  return {
    index,
    spriteUrl,
    pixelsOf: (example) => {
      const dataset = datasetOf(index, example);
      const rgba = sprites.get(dataset.sprite) as Rgba;
      return {
        pixels: bytesToSigned(cellBytes(dataset, rgba.data, rgba.width, example.cell)),
        geometry: exampleGeometry(dataset),
      };
    },
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
