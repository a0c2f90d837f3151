// The index of example source images (public/examples/index.json, written by
// training/make_examples.py for the grey data sets and training/emoji/make_emoji_examples.py for
// the emoji), validated before use. A data set may have its own sprite, cell size and channels
// (the emoji are 32x32 RGB); one without them uses the index's top-level 28x28 grey sprite.
import type { SourceGeometry } from './geometry';

/** Where a data set's examples lie: a sprite of cellSize x cellSize cells, `columns` across. */
export interface SpriteLayout {
  sprite: string;
  cellSize: number;
  columns: number;
  channels: 1 | 3;
}

export interface ExampleDataset extends SpriteLayout {
  id: string;
  name: string;
  licence: string;
  /** Ids of the models trained on this data set (whose picker shows these examples). */
  models: string[];
  /** Attribution the licence asks for, shown with the examples; empty when none is needed. */
  credit: string;
}

export interface ExampleImage {
  dataset: string;
  /** Index of the image in the data set (its test split unless `split` says otherwise). */
  index: number;
  /** Class id for class-labelled data sets, null for the others (emoji are named, not numbered). */
  label: number | null;
  labelName: string;
  /** Which split `index` counts in: "test", "held-out", "training". */
  split: string;
  /** The artwork's style where a data set has several (e.g. "Twemoji", "Noto"), else "". */
  style: string;
  /** Cell of the data set's sprite, row-major. */
  cell: number;
}

export interface ExamplesIndex {
  sprite: string;
  cellSize: number;
  columns: number;
  datasets: ExampleDataset[];
  examples: ExampleImage[];
}

function fail(problem: string): never {
  throw new Error(`examples/index.json: ${problem}`);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isFileName = (v: unknown): v is string => isText(v) && !/[/\\]|\.\./.test(v);
const optionalText = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);

function parseDataset(
  d: Record<string, unknown> | null,
  i: number,
  defaults: { sprite: string; cellSize: number; columns: number },
): ExampleDataset {
  if (!isText(d?.id) || !isText(d?.name) || typeof d?.licence !== 'string') {
    fail(`data set ${i} is malformed`);
  }
  const sprite = d.sprite ?? defaults.sprite;
  const cellSize = d.cellSize ?? defaults.cellSize;
  const columns = d.columns ?? defaults.columns;
  const channels = d.channels ?? 1;
  if (!isFileName(sprite)) fail(`data set ${i} has a bad sprite file name`);
  if (!isCount(cellSize) || cellSize === 0 || cellSize > 256) fail(`data set ${i}: bad cellSize`);
  if (!isCount(columns) || columns === 0) fail(`data set ${i}: bad columns`);
  if (channels !== 1 && channels !== 3) fail(`data set ${i}: channels must be 1 or 3`);
  const models = d.models ?? [d.id];
  if (!Array.isArray(models) || !models.every(isText)) fail(`data set ${i}: bad models list`);
  return {
    id: d.id,
    name: d.name,
    licence: d.licence,
    sprite,
    cellSize,
    columns,
    channels,
    models: models as string[],
    credit: optionalText(d.credit, ''),
  };
}

export function parseExamplesIndex(raw: unknown): ExamplesIndex {
  if (typeof raw !== 'object' || raw === null) fail('not an object');
  const r = raw as Record<string, unknown>;
  if (r.format !== 'diffusion-playground/examples@1') fail(`unknown format ${String(r.format)}`);
  if (!isFileName(r.sprite)) fail('bad sprite file name');
  if (!isCount(r.cellSize) || r.cellSize === 0) fail('bad cellSize');
  if (!isCount(r.columns) || r.columns === 0) fail('bad columns');
  if (!Array.isArray(r.datasets) || !Array.isArray(r.examples)) fail('missing lists');
  const defaults = { sprite: r.sprite, cellSize: r.cellSize, columns: r.columns };
  const datasets = r.datasets.map((d: Record<string, unknown> | null, i: number) =>
    parseDataset(d, i, defaults),
  );
  const ids = new Set(datasets.map((d) => d.id));
  const examples = r.examples.map((e: Record<string, unknown>, i: number) => {
    const ok =
      isText(e?.dataset) &&
      ids.has(e.dataset) &&
      isCount(e.index) &&
      (isCount(e.label) || e.label === null || e.label === undefined) &&
      typeof e.labelName === 'string' &&
      isCount(e.cell);
    if (!ok) fail(`example ${i} is malformed`);
    return {
      dataset: e.dataset,
      index: e.index,
      label: isCount(e.label) ? e.label : null,
      labelName: e.labelName,
      split: optionalText(e.split, 'test'),
      style: optionalText(e.style, ''),
      cell: e.cell,
    } as ExampleImage;
  });
  return { sprite: r.sprite, cellSize: r.cellSize, columns: r.columns, datasets, examples };
}

/** The data set an example belongs to (parseExamplesIndex guarantees there is one). */
export function datasetOf(index: ExamplesIndex, example: ExampleImage): ExampleDataset {
  const dataset = index.datasets.find((d) => d.id === example.dataset);
  if (!dataset) throw new Error(`examples: no data set ${example.dataset}`);
  return dataset;
}

/** The geometry of a data set's example images. */
export const exampleGeometry = (layout: SpriteLayout): SourceGeometry => ({
  size: layout.cellSize,
  channels: layout.channels,
});

/**
 * The data sets to offer for a model: those trained for it first, then the others whose images
 * have its geometry (MNIST and Fashion-MNIST for each other's models; picking needs no
 * conversion). Data sets of another geometry are left out (no digits for the emoji model); when
 * nothing is left, all of them (a pick is converted to the model's geometry).
 */
export function datasetsForModel(
  index: ExamplesIndex,
  modelId: string | null,
  geometry: SourceGeometry,
): ExampleDataset[] {
  const own = index.datasets.filter((d) => modelId !== null && d.models.includes(modelId));
  const alike = index.datasets.filter(
    (d) => !own.includes(d) && d.cellSize === geometry.size && d.channels === geometry.channels,
  );
  const offered = [...own, ...alike];
  return offered.length ? offered : index.datasets;
}

/** Top-left corner of an example's cell in its sprite, in sprite pixels. */
export function cellOrigin(
  layout: Pick<SpriteLayout, 'cellSize' | 'columns'>,
  cell: number,
): { x: number; y: number } {
  return {
    x: (cell % layout.columns) * layout.cellSize,
    y: Math.floor(cell / layout.columns) * layout.cellSize,
  };
}

/** "MNIST test #3 (0)", "Emoji held-out #812 (red apple, Noto)": how the app names an example. */
export function exampleName(index: ExamplesIndex, example: ExampleImage): string {
  const dataset = index.datasets.find((d) => d.id === example.dataset)?.name ?? example.dataset;
  const what = example.style ? `${example.labelName}, ${example.style}` : example.labelName;
  return `${dataset} ${example.split} #${example.index} (${what})`;
}

/**
 * The 8-bit values of one cell (HWC: one per pixel for grey, the red channel of the sprite; R, G, B
 * per pixel for colour), read from the decoded sprite's RGBA.
 */
export function cellBytes(
  layout: Pick<SpriteLayout, 'cellSize' | 'columns'> & { channels?: 1 | 3 },
  rgba: ArrayLike<number>,
  spriteWidth: number,
  cell: number,
): Uint8Array {
  const { x, y } = cellOrigin(layout, cell);
  const size = layout.cellSize;
  const channels = layout.channels ?? 1;
  const spriteHeight = rgba.length / 4 / spriteWidth;
  if (x + size > spriteWidth || y + size > spriteHeight) {
    throw new Error(
      `examples: cell ${cell} lies outside the ${spriteWidth}x${spriteHeight} sprite`,
    );
  }
  const out = new Uint8Array(size * size * channels);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const from = 4 * ((y + row) * spriteWidth + x + col);
      const to = (row * size + col) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = rgba[from + c];
    }
  }
  return out;
}
