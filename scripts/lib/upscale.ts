// Headless super-resolution: loads the SR pipeline (public/models/emoji-sr/) from disk and runs the
// engine's DiffusionRun in Node, conditioned on each input PNG; writes each 2x result under the same
// file name. Used by scripts/upscale.ts (`npm run upscale`) and, in-process, by the unit tests.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadSRFromFiles, type LoadedSR } from '../../src/engine/sr/loadSR';
import { SRConditionedModel } from '../../src/engine/sr/srDenoiser';
import { DiffusionRun } from '../../src/engine/run/diffusionRun';
import type { RunSettings } from '../../src/engine/run/settings';
import { SAMPLER_PRESETS, findSamplerPreset } from '../../src/engine/samplerPresets';
import type { TimestepSpacing } from '../../src/engine/schedulers/types';
import { UsageError, startBackend, type CliBackend } from './generate';
import { toBytes } from './png';
import { decodePng, encodeRgbPng } from './pngRgb';

export interface UpscaleOptions {
  input: string;
  out: string;
  /** The pipeline folder (card.json, unet/, scheduler/). */
  model: string;
  sampler: string;
  steps: number;
  /** Image i (inputs sorted by file name) gets seed + i. */
  seed: number;
  /** Noise-augmentation level of the low-res input (null: the card's default). */
  noiseLevel: number | null;
  eta: number;
  spacing: TimestepSpacing | null;
  batch: number;
  backend: CliBackend;
  overwrite: boolean;
}

export const DEFAULT_UPSCALE: Omit<UpscaleOptions, 'input' | 'out'> = {
  model: 'public/models/emoji-sr',
  sampler: 'DDIM',
  steps: 20,
  seed: 0,
  noiseLevel: null,
  eta: 0,
  spacing: null,
  batch: 8,
  backend: 'wasm',
  overwrite: false,
};

export const UPSCALE_USAGE = `usage: npm run upscale -- --in DIR --out DIR2 [options]

Runs the super-resolution stage (a second diffusion model conditioned on the low-res picture) on
every PNG in DIR (32x32 colour, or any size whose sides are multiples of 4; transparency is put on
white) and writes each 2x result to DIR2 under the same file name.

  --steps N           1..1000 (default 20)
  --seed N            image i (inputs sorted by name) gets seed + i (default 0)
  --sampler NAME      sampler preset, e.g. "DDIM", "DPM++ 2M", "Euler a", "DDPM" (default DDIM)
  --noise-level S     noise augmentation of the low-res input, 0..max (default: the card's)
  --eta X             DDIM eta, 0..1 (default 0)
  --spacing S         leading|trailing|linspace (default: the model's own)
  --batch N           images per run, 1..64 (default 8)
  --model DIR         the pipeline folder (default public/models/emoji-sr)
  --backend B         wasm|cpu (default wasm)
  --overwrite         replace existing files in DIR2

Writes DIR2/<name>.png (RGB) for each DIR/<name>.png and DIR2/upscale.json (settings, timings).`;

function parseNumber(
  flag: string,
  value: string,
  integer: boolean,
  min: number,
  max: number,
): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `${flag} must be ${integer ? 'a whole number' : 'a number'}, got '${value}'`,
    );
  }
  if (n < min || n > max) throw new UsageError(`${flag} must be from ${min} to ${max}, got ${n}`);
  return n;
}

export function parseUpscaleArgs(argv: string[]): UpscaleOptions | 'help' {
  const o: Partial<UpscaleOptions> & typeof DEFAULT_UPSCALE = { ...DEFAULT_UPSCALE };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let value: string | undefined;
    if (flag === '--help' || flag === '-h') return 'help';
    if (flag === '--overwrite') {
      o.overwrite = true;
      continue;
    }
    if (!flag.startsWith('--')) throw new UsageError(`unexpected argument '${flag}'`);
    const eq = flag.indexOf('=');
    if (eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    } else {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
    }
    switch (flag) {
      case '--in':
        o.input = value;
        break;
      case '--out':
        o.out = value;
        break;
      case '--model':
        o.model = value;
        break;
      case '--sampler':
        if (!findSamplerPreset(value)) {
          throw new UsageError(
            `unknown sampler '${value}'; valid names: ${SAMPLER_PRESETS.map((p) => `"${p.name}"`).join(', ')}`,
          );
        }
        o.sampler = value;
        break;
      case '--steps':
        o.steps = parseNumber(flag, value, true, 1, 1000);
        break;
      case '--seed':
        o.seed = parseNumber(flag, value, true, 0, 2 ** 32 - 1);
        break;
      case '--noise-level':
        o.noiseLevel = parseNumber(flag, value, true, 0, 999);
        break;
      case '--eta':
        o.eta = parseNumber(flag, value, false, 0, 1);
        break;
      case '--spacing':
        if (!['leading', 'trailing', 'linspace'].includes(value)) {
          throw new UsageError(`--spacing must be leading, trailing or linspace, got '${value}'`);
        }
        o.spacing = value as TimestepSpacing;
        break;
      case '--batch':
        o.batch = parseNumber(flag, value, true, 1, 64);
        break;
      case '--backend':
        if (value !== 'wasm' && value !== 'cpu')
          throw new UsageError(`--backend must be wasm or cpu, got '${value}'`);
        o.backend = value;
        break;
      default:
        throw new UsageError(`unknown option ${flag} (see --help)`);
    }
  }
  if (!o.input) throw new UsageError('--in DIR is required');
  if (!o.out) throw new UsageError('--out DIR2 is required');
  return o as UpscaleOptions;
}

/** Reads the pipeline folder from disk (card, config, weights; all checked). */
export async function loadDiskSR(dir: string): Promise<LoadedSR> {
  const root = resolve(dir);
  const cardFile = join(root, 'card.json');
  if (!existsSync(cardFile)) throw new UsageError(`no SR pipeline at ${root} (card.json missing)`);
  const cardJson = JSON.parse(readFileSync(cardFile, 'utf8')) as {
    components?: { unet?: { config?: string; weights?: { file?: string } } };
  };
  const unet = cardJson.components?.unet;
  const configFile = join(root, unet?.config ?? 'unet/config.json');
  const weightsFile = join(root, unet?.weights?.file ?? 'unet/diffusion_pytorch_model.safetensors');
  const bytes = readFileSync(weightsFile);
  const weights = bytes.buffer.slice(
    bytes.byteOffset,
    bytes.byteOffset + bytes.byteLength,
  ) as ArrayBuffer;
  return loadSRFromFiles(cardJson, JSON.parse(readFileSync(configFile, 'utf8')), weights, {
    card: cardFile,
    config: configFile,
    weights: weightsFile,
  });
}

export interface UpscaleResult {
  backend: CliBackend;
  files: {
    input: string;
    output: string;
    seed: number;
    width: number;
    height: number;
    ms: number;
  }[];
  seconds: number;
  /** Mean time of one model call per batch size (ms). */
  stepMs: Record<number, number>;
  noiseLevel: number;
}

/**
 * The SR pipeline for a cascade after `pipelineDir` (e.g. public/models/emoji): emoji-sr under
 * `modelsDir`, else beside the pipeline's folder.
 */
export async function loadUpscaler(modelsDir: string, pipelineDir: string): Promise<LoadedSR> {
  const candidates = [
    join(resolve(modelsDir), 'emoji-sr'),
    join(resolve(pipelineDir), '..', 'emoji-sr'),
  ];
  const dir = candidates.find((d) => existsSync(join(d, 'card.json')));
  if (!dir)
    throw new UsageError(
      `--upscale needs the super-resolution stage emoji-sr (looked in ${candidates.join(', ')})`,
    );
  return loadDiskSR(dir);
}

/**
 * One SR run over a batch: `lowRes` NHWC [seeds.length, h, w, 3] in [-1, 1] -> the 2x images,
 * NHWC floats in [-1, 1] (the run's final sample).
 */
export function upscaleBatch(
  sr: LoadedSR,
  lowRes: Float32Array,
  seeds: number[],
  shape: [number, number, number],
  settings: {
    sampler: string;
    steps: number;
    noiseLevel: number;
    eta?: number;
    spacing?: TimestepSpacing | null;
  },
): Float32Array {
  const model = new SRConditionedModel(sr.unet, sr.card, {
    lowRes,
    noiseLevel: settings.noiseLevel,
    seeds,
    shape,
  });
  const run = new DiffusionRun(model.runModel, {
    sampler: settings.sampler,
    steps: settings.steps,
    spacing: settings.spacing ?? null,
    sigmaSchedule: 'default',
    guidanceScale: 1,
    eta: settings.eta ?? 0,
    classes: seeds.map(() => 0),
    seeds,
    inpaint: null,
    img2img: null,
  });
  try {
    while (!run.done) run.step();
    return run.displaySample();
  } finally {
    run.dispose();
    model.dispose();
  }
}

/** [0, 255] RGB bytes -> [-1, 1] floats (HWC). */
export function bytesToUnit(rgb: Uint8Array): Float32Array {
  return toUnit(rgb);
}

/** [0, 255] RGB bytes -> [-1, 1] floats (HWC). */
function toUnit(rgb: Uint8Array): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = rgb[i] / 127.5 - 1;
  return out;
}

export async function upscale(
  options: UpscaleOptions,
  log: (line: string) => void = () => {},
): Promise<UpscaleResult> {
  const inputDir = resolve(options.input);
  if (!existsSync(inputDir)) throw new UsageError(`--in ${options.input} does not exist`);
  const names = readdirSync(inputDir)
    .filter((f) => f.toLowerCase().endsWith('.png'))
    .sort();
  if (!names.length) throw new UsageError(`no .png files in ${options.input}`);
  const backend = await startBackend(options.backend, log);
  const sr = await loadDiskSR(options.model);
  try {
    return await upscaleWith(sr, backend, names, options, log);
  } finally {
    sr.unet.dispose();
  }
}

export async function upscaleWith(
  sr: LoadedSR,
  backend: CliBackend,
  names: string[],
  options: UpscaleOptions,
  log: (line: string) => void = () => {},
): Promise<UpscaleResult> {
  const inputDir = resolve(options.input);
  const outDir = resolve(options.out);
  if (outDir === inputDir)
    throw new UsageError('--out must differ from --in (outputs keep the input file names)');
  mkdirSync(outDir, { recursive: true });
  if (!options.overwrite) {
    const clash = names.filter((n) => existsSync(join(outDir, n)));
    if (clash.length)
      throw new UsageError(
        `${options.out} already holds ${clash.length} of the output file(s), e.g. ${clash[0]}; use --overwrite`,
      );
  }
  const level = options.noiseLevel ?? sr.card.defaultNoiseLevel;
  if (level > sr.card.maxNoiseLevel) {
    log(
      `note: --noise-level ${level} is above the ${sr.card.maxNoiseLevel} the model was trained with`,
    );
  }
  const inputs = names.map((name, i) => {
    const img = decodePng(readFileSync(join(inputDir, name)), name);
    const m = sr.unet.sizeMultiple / 2;
    if (img.width % m || img.height % m) {
      throw new UsageError(
        `${name} is ${img.width}x${img.height}; the sides must be multiples of ${m}`,
      );
    }
    return { name, seed: options.seed + i, img };
  });
  log(
    `${sr.card.id} (trained ${sr.card.training.steps ?? '?'} steps) on ${backend}: ${inputs.length} image(s), ` +
      `${options.sampler}, ${options.steps} steps, noise level ${level}`,
  );
  // Same-size inputs share a run, in batches.
  const groups = new Map<string, typeof inputs>();
  for (const x of inputs) {
    const key = `${x.img.width}x${x.img.height}`;
    groups.set(key, [...(groups.get(key) ?? []), x]);
  }
  const files: UpscaleResult['files'] = [];
  const callMs = new Map<number, number[]>();
  const start = performance.now();
  for (const group of groups.values()) {
    for (let b = 0; b < group.length; b += options.batch) {
      const chunk = group.slice(b, b + options.batch);
      const { width, height } = chunk[0].img;
      const lowRes = new Float32Array(chunk.length * width * height * 3);
      chunk.forEach((x, i) => lowRes.set(toUnit(x.img.rgb), i * width * height * 3));
      const seeds = chunk.map((x) => x.seed);
      const model = new SRConditionedModel(sr.unet, sr.card, {
        lowRes,
        noiseLevel: level,
        seeds,
        shape: [height, width, 3],
      });
      const inner = model.runModel.denoiser;
      const timed = {
        ...model.runModel,
        denoiser: {
          ...inner,
          predict: (...args: Parameters<typeof inner.predict>) => {
            const t0 = performance.now();
            const out = inner.predict(...args);
            const list = callMs.get(args[0].shape[0]) ?? [];
            list.push(performance.now() - t0);
            callMs.set(args[0].shape[0], list);
            return out;
          },
        },
      };
      const settings: RunSettings = {
        sampler: options.sampler,
        steps: options.steps,
        spacing: options.spacing,
        sigmaSchedule: 'default',
        guidanceScale: 1,
        eta: options.eta,
        classes: seeds.map(() => 0),
        seeds,
        inpaint: null,
        img2img: null,
      };
      const t0 = performance.now();
      const run = new DiffusionRun(timed, settings);
      try {
        while (!run.done) run.step();
        const pixels = run.displaySample();
        const per = 4 * width * height * 3;
        const ms = (performance.now() - t0) / chunk.length;
        chunk.forEach((x, i) => {
          const bytes = toBytes(pixels.subarray(i * per, (i + 1) * per));
          const output = join(outDir, x.name);
          writeFileSync(output, encodeRgbPng(bytes, 2 * width, 2 * height));
          files.push({
            input: join(inputDir, x.name),
            output,
            seed: x.seed,
            width: 2 * width,
            height: 2 * height,
            ms,
          });
        });
      } finally {
        run.dispose();
        model.dispose();
      }
      log(
        `  ${chunk.map((x) => x.name).join(', ')}: ${((performance.now() - t0) / 1000).toFixed(2)} s`,
      );
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const stepMs: Record<number, number> = {};
  for (const [batch, list] of callMs) stepMs[batch] = list.reduce((a, c) => a + c, 0) / list.length;
  const result: UpscaleResult = { backend, files, seconds, stepMs, noiseLevel: level };
  writeFileSync(
    join(outDir, 'upscale.json'),
    JSON.stringify(
      {
        settings: { ...options, noiseLevel: level },
        model: {
          id: sr.card.id,
          trainingSteps: sr.card.training.steps ?? null,
          sha256: sr.card.unet.weights.sha256,
        },
        backend,
        seconds,
        stepMs,
        files: files.map((f) => ({ ...f, input: basename(f.input), output: basename(f.output) })),
      },
      null,
      2,
    ) + '\n',
  );
  log(
    `${files.length} image(s) in ${seconds.toFixed(1)} s; model call means: ${Object.entries(stepMs)
      .map(([b, ms]) => `batch ${b} ${ms.toFixed(0)} ms`)
      .join(', ')}; wrote ${options.out}/`,
  );
  return result;
}
