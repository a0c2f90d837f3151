// 2D data sets for the toy diffusion model, in plain JavaScript (no tfjs) so the page can draw
// them too. Every set is drawn from the seeded RNG, so a seed gives the same points everywhere.
import { Xoshiro128, gaussianArray } from '../gaussian';
import { textCells, unsupportedCharacters } from './pixelFont';

export const PRESET_DATASETS = ['moons', 'spiral', 'rings', 'gaussians', 'smiley', 'text'] as const;
export type PresetDataset = (typeof PRESET_DATASETS)[number];

export const PRESET_LABELS: Record<PresetDataset, string> = {
  moons: 'Two moons',
  spiral: 'Spiral',
  rings: 'Rings',
  gaussians: 'Grid of Gaussians',
  smiley: 'Smiley',
  text: 'Text',
};

export function isPresetDataset(name: unknown): name is PresetDataset {
  return typeof name === 'string' && (PRESET_DATASETS as readonly string[]).includes(name);
}

/** Points as one interleaved array: x0, y0, x1, y1, ... */
export type Points = Float32Array;

export const DEFAULT_TEXT = 'HI';
export const MAX_TEXT_LENGTH = 12;

class Draw {
  private readonly rng: Xoshiro128;
  constructor(seed: number) {
    this.rng = new Xoshiro128(seed);
  }
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.rng.nextUniform();
  }
  normal(): number {
    return gaussianArray(this.rng, 1)[0];
  }
  index(n: number): number {
    return Math.min(n - 1, Math.floor(this.rng.nextUniform() * n));
  }
}

type Sampler = (draw: Draw) => [number, number];

const moons: Sampler = (d) => {
  // sklearn's make_moons, with noise 0.05.
  const angle = d.uniform(0, Math.PI);
  const outer = d.uniform() < 0.5;
  const x = outer ? Math.cos(angle) : 1 - Math.cos(angle);
  const y = outer ? Math.sin(angle) : 0.5 - Math.sin(angle);
  return [x + 0.05 * d.normal(), y + 0.05 * d.normal()];
};

const spiral: Sampler = (d) => {
  // Uniform along the arc length (which grows like angle^2), 2.5 turns.
  const angle = Math.sqrt(d.uniform(0.02, 1)) * 5 * Math.PI;
  const r = angle / (5 * Math.PI);
  return [r * Math.cos(angle) + 0.02 * d.normal(), r * Math.sin(angle) + 0.02 * d.normal()];
};

const rings: Sampler = (d) => {
  // Three circles, points in proportion to their length.
  const u = d.uniform();
  const radius = u < 1 / 6 ? 0.33 : u < 1 / 2 ? 0.66 : 1;
  const angle = d.uniform(0, 2 * Math.PI);
  return [
    radius * Math.cos(angle) + 0.02 * d.normal(),
    radius * Math.sin(angle) + 0.02 * d.normal(),
  ];
};

const gaussians: Sampler = (d) => {
  const cx = d.index(4) - 1.5;
  const cy = d.index(4) - 1.5;
  return [cx + 0.08 * d.normal(), cy + 0.08 * d.normal()];
};

const smiley: Sampler = (d) => {
  const u = d.uniform();
  const jitter = () => 0.02 * d.normal();
  if (u < 0.5) {
    const a = d.uniform(0, 2 * Math.PI);
    return [Math.cos(a) + jitter(), Math.sin(a) + jitter()];
  }
  if (u < 0.7) {
    const side = u < 0.6 ? -1 : 1;
    return [side * 0.35 + 0.07 * d.normal(), 0.35 + 0.07 * d.normal()];
  }
  const a = d.uniform(1.15 * Math.PI, 1.85 * Math.PI);
  return [0.55 * Math.cos(a) + jitter(), 0.55 * Math.sin(a) + jitter()];
};

function textSampler(text: string): Sampler {
  const cells = textCells(text);
  if (cells.length === 0) throw new Error(`the text '${text}' has no drawable characters`);
  return (d) => {
    const [col, row] = cells[d.index(cells.length)];
    return [col + d.uniform(), -(row + d.uniform())];
  };
}

/** Why a text cannot be used as a data set, or null. */
export function textProblem(text: string): string | null {
  if (text.trim() === '') return 'Type some text to turn into points.';
  if (text.length > MAX_TEXT_LENGTH) return `Text is limited to ${MAX_TEXT_LENGTH} characters.`;
  const bad = unsupportedCharacters(text);
  if (bad.length > 0) return `The pixel font has no ${bad.map((c) => `'${c}'`).join(', ')}.`;
  return null;
}

/**
 * `count` points of a preset, centred and scaled to unit variance per coordinate (pooled), so
 * the data and the Gaussian the reverse process starts from have the same scale.
 */
export function presetPoints(
  name: PresetDataset,
  count: number,
  seed: number,
  text = DEFAULT_TEXT,
): Points {
  const sampler: Sampler =
    name === 'moons'
      ? moons
      : name === 'spiral'
        ? spiral
        : name === 'rings'
          ? rings
          : name === 'gaussians'
            ? gaussians
            : name === 'smiley'
              ? smiley
              : textSampler(text);
  const draw = new Draw(seed);
  const points = new Float32Array(2 * count);
  for (let i = 0; i < count; i++) {
    const [x, y] = sampler(draw);
    points[2 * i] = x;
    points[2 * i + 1] = y;
  }
  return applyNormalization(points, fitNormalization(points));
}

/** data = normalized * scale + mean: what maps the model's space back onto the drawing. */
export interface Normalization {
  mean: [number, number];
  scale: number;
}

export function fitNormalization(points: Points): Normalization {
  const n = points.length / 2;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += points[2 * i];
    my += points[2 * i + 1];
  }
  mx /= n;
  my /= n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (points[2 * i] - mx) ** 2 + (points[2 * i + 1] - my) ** 2;
  // A lone point (or a cloud on one spot) has no spread: keep its scale at 1 rather than divide by 0.
  const scale = Math.sqrt(sq / (2 * n)) || 1;
  return { mean: [mx, my], scale };
}

export function applyNormalization(points: Points, norm: Normalization): Points {
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    out[i] = (points[i] - norm.mean[0]) / norm.scale;
    out[i + 1] = (points[i + 1] - norm.mean[1]) / norm.scale;
  }
  return out;
}

export function undoNormalization(points: Points, norm: Normalization): Points {
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    out[i] = points[i] * norm.scale + norm.mean[0];
    out[i + 1] = points[i + 1] * norm.scale + norm.mean[1];
  }
  return out;
}

/** Shuffles the points (seeded) and splits off the last `heldOutFraction` for evaluation. */
export function splitHeldOut(
  points: Points,
  heldOutFraction: number,
  seed: number,
): { train: Points; heldOut: Points } {
  const n = points.length / 2;
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = new Xoshiro128(seed ^ 0x5eed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.nextUniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const heldCount = Math.max(1, Math.floor(n * heldOutFraction));
  const pick = (indices: number[]) => {
    const out = new Float32Array(indices.length * 2);
    indices.forEach((src, k) => {
      out[2 * k] = points[2 * src];
      out[2 * k + 1] = points[2 * src + 1];
    });
    return out;
  };
  return { train: pick(order.slice(0, n - heldCount)), heldOut: pick(order.slice(n - heldCount)) };
}
