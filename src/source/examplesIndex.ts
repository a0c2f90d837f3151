// The index of example source images (public/examples/index.json, written by
// training/make_examples.py), validated before use.
export interface ExampleDataset {
  id: string;
  name: string;
  licence: string;
}

export interface ExampleImage {
  dataset: string;
  /** Index in the data set's test split. */
  index: number;
  label: number;
  labelName: string;
  /** Cell of the sprite, row-major. */
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

export function parseExamplesIndex(raw: unknown): ExamplesIndex {
  if (typeof raw !== 'object' || raw === null) fail('not an object');
  const r = raw as Record<string, unknown>;
  if (r.format !== 'diffusion-playground/examples@1') fail(`unknown format ${String(r.format)}`);
  if (!isText(r.sprite) || /[/\\]|\.\./.test(r.sprite)) fail('bad sprite file name');
  if (!isCount(r.cellSize) || r.cellSize === 0) fail('bad cellSize');
  if (!isCount(r.columns) || r.columns === 0) fail('bad columns');
  if (!Array.isArray(r.datasets) || !Array.isArray(r.examples)) fail('missing lists');
  const datasets = r.datasets.map((d: Record<string, unknown>, i: number) => {
    if (!isText(d?.id) || !isText(d?.name) || typeof d?.licence !== 'string') {
      fail(`data set ${i} is malformed`);
    }
    return { id: d.id, name: d.name, licence: d.licence } as ExampleDataset;
  });
  const ids = new Set(datasets.map((d) => d.id));
  const examples = r.examples.map((e: Record<string, unknown>, i: number) => {
    const ok =
      isText(e?.dataset) &&
      ids.has(e.dataset) &&
      isCount(e.index) &&
      isCount(e.label) &&
      typeof e.labelName === 'string' &&
      isCount(e.cell);
    if (!ok) fail(`example ${i} is malformed`);
    return {
      dataset: e.dataset,
      index: e.index,
      label: e.label,
      labelName: e.labelName,
      cell: e.cell,
    } as ExampleImage;
  });
  return { sprite: r.sprite, cellSize: r.cellSize, columns: r.columns, datasets, examples };
}

/** Top-left corner of an example's cell in the sprite, in sprite pixels. */
export function cellOrigin(index: ExamplesIndex, cell: number): { x: number; y: number } {
  return {
    x: (cell % index.columns) * index.cellSize,
    y: Math.floor(cell / index.columns) * index.cellSize,
  };
}

/** "MNIST test #3 (0)": how the app names an example source. */
export function exampleName(index: ExamplesIndex, example: ExampleImage): string {
  const dataset = index.datasets.find((d) => d.id === example.dataset)?.name ?? example.dataset;
  return `${dataset} test #${example.index} (${example.labelName})`;
}

/** The 8-bit gray values of one cell, read from the decoded sprite's RGBA (red channel). */
export function cellBytes(
  index: ExamplesIndex,
  rgba: ArrayLike<number>,
  spriteWidth: number,
  cell: number,
): Uint8Array {
  const { x, y } = cellOrigin(index, cell);
  const size = index.cellSize;
  const spriteHeight = rgba.length / 4 / spriteWidth;
  if (x + size > spriteWidth || y + size > spriteHeight) {
    throw new Error(
      `examples: cell ${cell} lies outside the ${spriteWidth}x${spriteHeight} sprite`,
    );
  }
  const out = new Uint8Array(size * size);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      out[row * size + col] = rgba[4 * ((y + row) * spriteWidth + x + col)];
    }
  }
  return out;
}
