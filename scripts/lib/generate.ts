// Headless generation: loads a shipped model from disk, runs the engine's DiffusionRun in Node and
// writes one PNG per sample plus a contact sheet: 8-bit grayscale for the class models, 8-bit RGB
// for a text-to-image pipeline (a folder with model_index.json, e.g. emoji: --prompt). Used by
// scripts/generate.ts (`npm run generate`), by training/evaluate_all.py and, in-process, by the
// unit tests.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadUNet, parseModelCard, runModelFromUNet, sha256Hex } from '../../src/engine/model';
import type { ModelCard, UNet } from '../../src/engine/model';
import { ClassifierGuide } from '../../src/engine/classifierGuidance';
import { parseClassifierCard } from '../../src/engine/model/classifierCard';
import { loadNoisyClassifier } from '../../src/engine/model/noisyClassifier';
import { DiffusionRun, type RunModel } from '../../src/engine/run/diffusionRun';
import {
  DEFAULT_LANGEVIN_SNR,
  MAX_CLASSIFIER_GUIDANCE,
  MAX_LANGEVIN_STEPS,
  type RunSettings,
  type SigmaSchedule,
} from '../../src/engine/run/settings';
import type { NoiseScheduleConfig } from '../../src/engine/schedule/betas';
import { SAMPLER_PRESETS, findSamplerPreset } from '../../src/engine/samplerPresets';
import type { TimestepSpacing } from '../../src/engine/schedulers/types';
import { contactSheet, encodeGrayPng, toBytes } from './png';
import { bytesToUnit, loadUpscaler, upscaleBatch } from './upscale';
import { encodeRgbPng } from './pngRgb';
import {
  describePrompt,
  generateEmojiBatch,
  loadDiskPipeline,
  rgbBytes,
  rgbContactSheet,
} from './emojiGenerate';
import type { EmojiPipeline } from '../../src/engine/emoji';

export type CliBackend = 'wasm' | 'cpu';

export interface GenerateOptions {
  /** A model id under modelsDir (e.g. "mnist") or a folder holding card.json. */
  model: string;
  modelsDir: string;
  /** Class ids to draw, in order; `count` images each. */
  classes: number[];
  /** True when the user asked for --class all (rows per class in the sheet). */
  allClasses: boolean;
  count: number;
  sampler: string;
  steps: number;
  guidance: number;
  /** Image i (over the whole output) gets seed + i. */
  seed: number;
  eta: number;
  spacing: TimestepSpacing | null;
  schedule: SigmaSchedule;
  /** Images per DiffusionRun (with guidance other than 0 and 1 a model call sees twice this). */
  batch: number;
  backend: CliBackend;
  out: string;
  /** Replace earlier samples in `out` (otherwise an error). */
  overwrite: boolean;
  /** Time single model calls at batch 1 and 16 after generating. */
  bench: boolean;
  /** Classifier guidance scale with the model's noisy classifier (0 = off). */
  classifierGuidance: number;
  /** Langevin corrector steps after each step (0 = off; Annealed Langevin: steps per level). */
  langevinSteps: number;
  langevinSnr: number;
  /** Text-to-image pipelines only (null: not given, the empty prompt = unconditional). */
  prompt: string | null;
  /** Replaces the unconditional branch of classifier-free guidance (text-to-image only). */
  negativePrompt: string;
  /** Text-to-image only: also run the cascade's super-resolution stage (emoji-sr) on every image. */
  upscale: boolean;
  upscaleSteps: number;
  upscaleSampler: string;
  /** The SR stage's noise-augmentation level (null: the SR card's default). */
  upscaleNoiseLevel: number | null;
}

export const DEFAULT_OPTIONS: Omit<GenerateOptions, 'out' | 'classes' | 'allClasses'> = {
  model: 'mnist',
  modelsDir: 'public/models',
  count: 16,
  sampler: 'DPM++ 2M',
  steps: 20,
  guidance: 2,
  seed: 0,
  eta: 0,
  spacing: null,
  schedule: 'default',
  batch: 16,
  backend: 'wasm',
  overwrite: false,
  bench: true,
  classifierGuidance: 0,
  langevinSteps: 0,
  langevinSnr: DEFAULT_LANGEVIN_SNR,
  prompt: null,
  negativePrompt: '',
  upscale: false,
  upscaleSteps: 20,
  upscaleSampler: 'DDIM',
  upscaleNoiseLevel: null,
};

export const USAGE = `usage: npm run generate -- --out DIR [options]

  --model ID|DIR      model id under --models-dir, or a folder with card.json (default mnist);
                      "emoji" is the text-to-image latent pipeline (32x32 RGB, --prompt)
  --models-dir DIR    default public/models
  --class N|all|N,M   class id(s); "all" draws --count of every class (default 0; class models)
  --prompt TEXT       what to draw (text-to-image models, e.g. "cat face"); unknown words are
                      ignored and listed; empty or absent = unconditional
  --negative-prompt TEXT
                      replaces the unconditional branch of guidance (default: the empty prompt)
  --count N           images per class, or per prompt (default 16)
  --sampler NAME      sampler preset, e.g. "DPM++ 2M", "Euler a", "DDIM", "DDPM" (default DPM++ 2M)
  --steps N           1..1000 (default 20)
  --guidance W        classifier-free guidance scale, 0..50 (default 2; 0 = unconditional)
  --classifier-guidance S
                      classifier guidance with the model's noisy classifier
                      (<dataset>-classifier beside the model), 0..100 (default 0 = off)
  --langevin-steps N  Langevin corrector steps after each step, 0..10 (default 0 = off);
                      for --sampler "Annealed Langevin" its steps per noise level
  --langevin-snr R    the corrector's signal-to-noise ratio, (0, 1] (default 0.16)
  --seed N            image i gets seed + i (default 0)
  --eta X             DDIM eta, 0..1 (default 0)
  --spacing S         leading|trailing|linspace (default: the model's own)
  --schedule S        sigma schedule default|karras|exponential (default default)
  --batch N           images per run, 1..64 (default 16)
  --backend B         wasm|cpu (default wasm)
  --overwrite         replace earlier samples in --out
  --no-bench          skip timing single model calls at batch 1 and 16
  --upscale           text-to-image: also run the super-resolution stage (emoji-sr beside the
                      model) on every image, writing DIR/<index>_x2.png (64x64) beside <index>_.png
  --upscale-steps N   its steps, 1..1000 (default 20)
  --upscale-sampler NAME
                      its sampler (default DDIM)
  --upscale-noise-level S
                      its noise augmentation of the 32x32 input (default: the SR card's)

Writes DIR/<index>_c<class>_.png (8-bit grayscale) for class models, DIR/<index>_.png (8-bit RGB)
for text-to-image models (with --upscale also DIR/<index>_x2.png and DIR/sheet_x2.png),
DIR/sheet.png and DIR/generate.json.`;

export class UsageError extends Error {}

const SPACINGS: readonly TimestepSpacing[] = ['leading', 'trailing', 'linspace'];
const SCHEDULES: readonly SigmaSchedule[] = ['default', 'karras', 'exponential'];

function parseNumber(flag: string, value: string, integer: boolean, min: number, max: number) {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `${flag} must be ${integer ? 'a whole number' : 'a number'}, got '${value}'`,
    );
  }
  if (n < min || n > max) throw new UsageError(`${flag} must be from ${min} to ${max}, got ${n}`);
  return n;
}

/** Parses command-line arguments (after the script name). Class ids are checked against the card later. */
export function parseGenerateArgs(argv: string[]): GenerateOptions | 'help' {
  const o: Partial<GenerateOptions> & typeof DEFAULT_OPTIONS = { ...DEFAULT_OPTIONS };
  let classArg = '0';
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let value: string | undefined;
    if (flag === '--help' || flag === '-h') return 'help';
    if (flag === '--overwrite') {
      o.overwrite = true;
      continue;
    }
    if (flag === '--upscale') {
      o.upscale = true;
      continue;
    }
    if (flag === '--no-bench') {
      o.bench = false;
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
      case '--model':
        o.model = value;
        break;
      case '--models-dir':
        o.modelsDir = value;
        break;
      case '--class':
        classArg = value;
        break;
      case '--prompt':
        o.prompt = value;
        break;
      case '--negative-prompt':
        o.negativePrompt = value;
        break;
      case '--upscale-steps':
        o.upscaleSteps = parseNumber(flag, value, true, 1, 1000);
        break;
      case '--upscale-sampler':
        if (!findSamplerPreset(value))
          throw new UsageError(`unknown sampler '${value}' for --upscale-sampler`);
        o.upscaleSampler = value;
        break;
      case '--upscale-noise-level':
        o.upscaleNoiseLevel = parseNumber(flag, value, true, 0, 999);
        break;
      case '--count':
        o.count = parseNumber(flag, value, true, 1, 100000);
        break;
      case '--sampler':
        if (!findSamplerPreset(value)) {
          const names = SAMPLER_PRESETS.map((p) => `"${p.name}"`).join(', ');
          throw new UsageError(`unknown sampler '${value}'; valid names: ${names}`);
        }
        o.sampler = value;
        break;
      case '--steps':
        o.steps = parseNumber(flag, value, true, 1, 1000);
        break;
      case '--guidance':
        o.guidance = parseNumber(flag, value, false, 0, 50);
        break;
      case '--seed':
        o.seed = parseNumber(flag, value, true, 0, 2 ** 32 - 1);
        break;
      case '--classifier-guidance':
        o.classifierGuidance = parseNumber(flag, value, false, 0, MAX_CLASSIFIER_GUIDANCE);
        break;
      case '--langevin-steps':
        o.langevinSteps = parseNumber(flag, value, true, 0, MAX_LANGEVIN_STEPS);
        break;
      case '--langevin-snr':
        o.langevinSnr = parseNumber(flag, value, false, 1e-6, 1);
        break;
      case '--eta':
        o.eta = parseNumber(flag, value, false, 0, 1);
        break;
      case '--spacing':
        if (!(SPACINGS as readonly string[]).includes(value)) {
          throw new UsageError(`--spacing must be one of ${SPACINGS.join(', ')}, got '${value}'`);
        }
        o.spacing = value as TimestepSpacing;
        break;
      case '--schedule':
        if (!(SCHEDULES as readonly string[]).includes(value)) {
          throw new UsageError(`--schedule must be one of ${SCHEDULES.join(', ')}, got '${value}'`);
        }
        o.schedule = value as SigmaSchedule;
        break;
      case '--batch':
        o.batch = parseNumber(flag, value, true, 1, 64);
        break;
      case '--backend':
        if (value !== 'wasm' && value !== 'cpu') {
          throw new UsageError(`--backend must be wasm or cpu, got '${value}'`);
        }
        o.backend = value;
        break;
      case '--out':
        o.out = value;
        break;
      default:
        throw new UsageError(`unknown option ${flag} (see --help)`);
    }
  }
  if (!o.out) throw new UsageError('--out DIR is required');
  const allClasses = classArg === 'all';
  const classes = allClasses
    ? []
    : classArg.split(',').map((c) => parseNumber('--class', c, true, 0, 1000));
  return { ...o, out: o.out, classes, allClasses };
}

/** The sample file name for image `index` of class `classId`. */
export function sampleFileName(index: number, classId: number): string {
  return `${String(index).padStart(4, '0')}_c${classId}_.png`;
}

/** The sample file name for image `index` of a text-to-image run. */
export function promptSampleFileName(index: number): string {
  return `${String(index).padStart(4, '0')}_.png`;
}

const SAMPLE_FILE = /^\d+(_c\d+)?_(x2)?\.png$/;
const OUTPUT_FILES = ['sheet.png', 'sheet_x2.png', 'generate.json'];

/** The 64x64 file of a text-to-image sample upscaled by the SR stage: 0003_.png -> 0003_x2.png. */
export function upscaledFileName(file: string): string {
  return file.replace(/_\.png$/, '_x2.png');
}

export interface LoadedDiskModel {
  dir: string;
  card: ModelCard;
  unet: UNet;
  runModel: RunModel;
  sha256: string;
}

export function modelDir(model: string, modelsDir: string): string {
  const asDir = resolve(model);
  if (existsSync(join(asDir, 'card.json'))) return asDir;
  const dir = resolve(modelsDir, model);
  if (!existsSync(join(dir, 'card.json'))) {
    let known: string[] = [];
    try {
      known = readdirSync(resolve(modelsDir)).filter((d) =>
        existsSync(join(resolve(modelsDir), d, 'card.json')),
      );
    } catch {
      // no models folder: say so below
    }
    throw new UsageError(
      `no model '${model}': ${join(dir, 'card.json')} does not exist` +
        (known.length ? `; models here: ${known.join(', ')}` : ''),
    );
  }
  return dir;
}

/** Reads card.json and the weights (checked against the card's sha256 by loadUNet). */
export async function loadDiskModel(model: string, modelsDir: string): Promise<LoadedDiskModel> {
  const dir = modelDir(model, modelsDir);
  const cardFile = join(dir, 'card.json');
  const card = parseModelCard(JSON.parse(readFileSync(cardFile, 'utf8')), cardFile);
  const bytes = readFileSync(join(dir, card.weights.file));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const weightsFile = join(dir, card.weights.file);
  const unet = await loadUNet(card, buffer as ArrayBuffer, { cardFile, weightsFile });
  const sha256 = await sha256Hex(buffer as ArrayBuffer);
  return { dir, card, unet, runModel: runModelFromUNet(unet, card), sha256 };
}

/**
 * The noisy classifier for classifier guidance: `<dataset id>-classifier` beside the model (the
 * app loads the same folder), matched to the model's schedule by noise level.
 */
export async function loadDiskClassifier(
  card: ModelCard,
  modelsDir: string,
  modelFolder: string,
): Promise<ClassifierGuide> {
  const candidates = [
    join(modelsDir, `${card.dataset.id}-classifier`),
    join(modelFolder, '..', `${card.dataset.id}-classifier`),
  ];
  const dir = candidates.find((d) => existsSync(join(d, 'card.json')));
  if (!dir) {
    throw new UsageError(
      `--classifier-guidance needs the noisy classifier ${card.dataset.id}-classifier (looked in ${candidates.join(', ')})`,
    );
  }
  const cardFile = join(dir, 'card.json');
  const classifierCard = parseClassifierCard(JSON.parse(readFileSync(cardFile, 'utf8')), cardFile);
  const bytes = readFileSync(join(dir, classifierCard.weights.file));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const classifier = await loadNoisyClassifier(classifierCard, buffer as ArrayBuffer, {
    cardFile,
    weightsFile: join(dir, classifierCard.weights.file),
  });
  return new ClassifierGuide(
    classifier,
    classifierCard.scheduler as unknown as NoiseScheduleConfig,
  );
}

/** Starts the backend; wasm falls back to cpu with a message if it cannot start. */
export async function startBackend(
  backend: CliBackend,
  log: (line: string) => void = () => {},
): Promise<CliBackend> {
  if (backend === 'wasm') {
    try {
      let dist: string;
      try {
        const req = createRequire(import.meta.url);
        dist = join(dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
      } catch {
        dist = resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist');
      }
      setWasmPaths(`${dist}/`);
      // In an ES module bundle (scripts/run.mjs) Emscripten's Node branch still reads the
      // CommonJS global __dirname; give it one (the wasm files themselves come from setWasmPaths).
      const g = globalThis as { __dirname?: string };
      if (typeof g.__dirname !== 'string' && typeof __dirname === 'undefined') g.__dirname = dist;
      if (!(await tf.setBackend('wasm'))) throw new Error('initialisation returned false');
      await tf.ready();
      return 'wasm';
    } catch (err) {
      log(`wasm backend failed (${(err as Error).message}); falling back to cpu (much slower)`);
    }
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not start');
  await tf.ready();
  return 'cpu';
}

export interface CallTiming {
  /** Images in the model call (CFG doubles the run's batch). */
  batch: number;
  calls: number;
  meanMs: number;
  medianMs: number;
}

export interface GenerateResult {
  backend: CliBackend;
  model: { id: string; dir: string; sha256: string; trainingSteps: unknown };
  files: string[];
  sheet: string;
  /** classId: class models only. */
  images: { file: string; index: number; classId?: number; seed: number }[];
  seconds: number;
  imagesPerSecond: number;
  /** Model calls during generation, grouped by batch size. */
  runCalls: CallTiming[];
  /** Single model calls timed in isolation (empty with bench off). */
  bench: CallTiming[];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function summarise(byBatch: Map<number, number[]>): CallTiming[] {
  return [...byBatch.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([batch, ms]) => ({
      batch,
      calls: ms.length,
      meanMs: ms.reduce((a, b) => a + b, 0) / ms.length,
      medianMs: median(ms),
    }));
}

/**
 * Times unet.predict alone, per batch size: warm-up calls for at least 2 s (at least 2 calls:
 * V8 first runs wasm as baseline code and optimises hot functions in the background, which takes
 * dozens of small calls), then `reps` timed ones.
 */
export function benchModel(unet: UNet, card: ModelCard, batches = [1, 16], reps = 9): CallTiming[] {
  const size = card.architecture.image_size;
  const channels = card.architecture.in_channels;
  const byBatch = new Map<number, number[]>();
  for (const batch of batches) {
    const x = tf.randomNormal([batch, size, size, channels], 0, 1, 'float32', 7) as tf.Tensor4D;
    const times = new Array<number>(batch).fill(500);
    const classes = new Array<number>(batch).fill(0);
    const call = (): number => {
      const t0 = performance.now();
      const out = unet.predict(x, times, classes);
      out.dataSync();
      const dt = performance.now() - t0;
      out.dispose();
      return dt;
    };
    const warmStart = performance.now();
    for (let w = 0; w < 2 || performance.now() - warmStart < 2000; w++) call();
    const ms = Array.from({ length: reps }, call);
    x.dispose();
    byBatch.set(batch, ms);
  }
  return summarise(byBatch);
}

function prepareOutDir(out: string, overwrite: boolean): void {
  mkdirSync(out, { recursive: true });
  const old = readdirSync(out).filter((f) => SAMPLE_FILE.test(f) || OUTPUT_FILES.includes(f));
  if (old.length === 0) return;
  if (!overwrite) {
    throw new UsageError(
      `${out} already holds ${old.length} sample file(s); use --overwrite to replace them ` +
        'or choose another --out',
    );
  }
  for (const f of old) rmSync(join(out, f));
}

/** Runs the whole pipeline; `log` receives progress lines. The model is loaded and disposed here. */
export async function generate(
  options: GenerateOptions,
  log: (line: string) => void = () => {},
): Promise<GenerateResult> {
  const backend = await startBackend(options.backend, log);
  const dir = modelDir(options.model, options.modelsDir);
  if (existsSync(join(dir, 'model_index.json'))) {
    const pipe = await loadDiskPipeline(dir);
    try {
      return await generateWithPipeline(pipe, dir, backend, options, log);
    } finally {
      pipe.dispose();
    }
  }
  if (options.upscale) {
    throw new UsageError(
      `--upscale runs the emoji super-resolution stage on 32x32 colour images; ${options.model} is a ` +
        'class model (use npm run upscale on a folder of PNGs instead)',
    );
  }
  if (options.prompt !== null || options.negativePrompt !== '') {
    throw new UsageError(
      `--prompt and --negative-prompt need a text-to-image model (e.g. --model emoji); ` +
        `${options.model} is a class model: use --class`,
    );
  }
  const model = await loadDiskModel(options.model, options.modelsDir);
  try {
    return await generateWith(model, backend, options, log);
  } finally {
    model.unet.dispose();
  }
}

/** The pipeline on an already loaded model and started backend. */
export async function generateWith(
  model: LoadedDiskModel,
  backend: CliBackend,
  options: GenerateOptions,
  log: (line: string) => void = () => {},
): Promise<GenerateResult> {
  const { card } = model;
  const numClasses = card.architecture.num_classes;
  const classes = options.allClasses
    ? Array.from({ length: numClasses }, (_, c) => c)
    : options.classes;
  const bad = classes.filter((c) => c < 0 || c >= numClasses);
  if (bad.length) {
    throw new UsageError(
      `class ${bad.join(', ')} is not a class of ${card.id} (0..${numClasses - 1}: ` +
        `${card.class_labels.join(', ')})`,
    );
  }
  const total = classes.length * options.count;
  if (options.seed + total - 1 > 2 ** 32 - 1) {
    throw new UsageError(`--seed ${options.seed} + ${total} images passes 2^32 - 1`);
  }
  const preset = findSamplerPreset(options.sampler);
  if (!preset) throw new UsageError(`unknown sampler '${options.sampler}'`);
  if (options.eta !== 0 && !preset.usesEta) {
    log(`note: ${options.sampler} ignores --eta (only DDIM uses it)`);
  }
  prepareOutDir(options.out, options.overwrite);

  const images = classes.flatMap((classId, k) =>
    Array.from({ length: options.count }, (_, j) => {
      const index = k * options.count + j;
      return { file: sampleFileName(index, classId), index, classId, seed: options.seed + index };
    }),
  );

  const classifier =
    options.classifierGuidance > 0
      ? await loadDiskClassifier(card, options.modelsDir, model.dir)
      : null;
  // Every model call, timed (wasm and cpu kernels run synchronously, so this is the compute).
  const callMs = new Map<number, number[]>();
  const timed: RunModel = {
    ...model.runModel,
    classifier: classifier ? { guide: classifier, problem: null } : undefined,
    denoiser: {
      ...model.runModel.denoiser,
      predict: (x, timesteps, classIds) => {
        const t0 = performance.now();
        const out = model.runModel.denoiser.predict(x, timesteps, classIds);
        const dt = performance.now() - t0;
        const list = callMs.get(x.shape[0]) ?? [];
        list.push(dt);
        callMs.set(x.shape[0], list);
        return out;
      },
    },
  };

  log(
    `${card.id} (sha256 ${model.sha256.slice(0, 12)}..., trained ${
      card.training?.steps ?? '?'
    } steps) on ${backend}: ${total} image(s), ${options.sampler}, ${options.steps} steps, ` +
      `guidance ${options.guidance}, batch ${options.batch}`,
  );
  const [h, w, c] = timed.denoiser.imageShape;
  if (c !== 1) throw new Error(`only 1-channel models can be written as grayscale (got ${c})`);
  const bytes: Uint8Array[] = [];
  const start = performance.now();
  for (let b = 0; b < images.length; b += options.batch) {
    const chunk = images.slice(b, b + options.batch);
    const settings: RunSettings = {
      sampler: options.sampler,
      steps: options.steps,
      spacing: options.spacing,
      sigmaSchedule: options.schedule,
      guidanceScale: options.guidance,
      eta: options.eta,
      classes: chunk.map((im) => im.classId),
      seeds: chunk.map((im) => im.seed),
      inpaint: null,
      img2img: null,
      classifierGuidanceScale: options.classifierGuidance,
      langevinSteps: options.langevinSteps,
      langevinSnr: options.langevinSnr,
    };
    const t0 = performance.now();
    const run = new DiffusionRun(timed, settings);
    let steps = 0;
    try {
      while (!run.done) {
        run.step();
        steps++;
      }
      const pixels = run.displaySample();
      chunk.forEach((im, i) => {
        const one = toBytes(pixels.subarray(i * h * w, (i + 1) * h * w));
        bytes.push(one);
        writeFileSync(join(options.out, im.file), encodeGrayPng(one, w, h));
      });
    } finally {
      run.dispose();
    }
    const dt = (performance.now() - t0) / 1000;
    log(
      `  images ${b}..${b + chunk.length - 1}: ${steps} model calls in ${dt.toFixed(1)} s ` +
        `(${((dt * 1000) / steps).toFixed(0)} ms per step)`,
    );
  }
  const seconds = (performance.now() - start) / 1000;

  const rows = options.allClasses || classes.length > 1 ? classes.length : 0;
  const cols = rows ? options.count : Math.ceil(Math.sqrt(total));
  const sheet = contactSheet(bytes, { width: w, height: h }, cols, rows || Math.ceil(total / cols));
  const sheetFile = join(options.out, 'sheet.png');
  writeFileSync(sheetFile, encodeGrayPng(sheet.pixels, sheet.width, sheet.height));

  const runCalls = summarise(callMs);
  const bench = options.bench ? benchModel(model.unet, card) : [];
  const result: GenerateResult = {
    backend,
    model: {
      id: card.id,
      dir: model.dir,
      sha256: model.sha256,
      trainingSteps: card.training?.steps ?? null,
    },
    files: images.map((im) => join(options.out, im.file)),
    sheet: sheetFile,
    images,
    seconds,
    imagesPerSecond: total / seconds,
    runCalls,
    bench,
  };
  const record = {
    settings: {
      model: options.model,
      classes,
      count: options.count,
      sampler: options.sampler,
      steps: options.steps,
      guidance: options.guidance,
      classifierGuidance: options.classifierGuidance,
      langevinSteps: options.langevinSteps,
      langevinSnr: options.langevinSnr,
      seed: options.seed,
      eta: options.eta,
      spacing: options.spacing,
      schedule: options.schedule,
      batch: options.batch,
      backend: options.backend,
    },
    ...result,
    files: undefined, // the same as images[].file
  };
  writeFileSync(join(options.out, 'generate.json'), JSON.stringify(record, null, 2) + '\n');
  for (const t of runCalls) {
    log(
      `model calls at batch ${t.batch}: ${t.calls} calls, mean ${t.meanMs.toFixed(1)} ms, ` +
        `median ${t.medianMs.toFixed(1)} ms (${(t.medianMs / t.batch).toFixed(1)} ms per image)`,
    );
  }
  for (const t of bench) {
    log(
      `bench: one model evaluation at batch ${t.batch} on ${backend}: median ${t.medianMs.toFixed(
        1,
      )} ms over ${t.calls} calls (${(t.medianMs / t.batch).toFixed(1)} ms per image)`,
    );
  }
  log(
    `${total} image(s) in ${seconds.toFixed(1)} s: ${result.imagesPerSecond.toFixed(2)} images/s; ` +
      `wrote ${options.out}/ (${total} PNGs, sheet.png, generate.json)`,
  );
  return result;
}

/** Times the text-to-image denoiser alone at 1 and 8 latents (8 = 4 images with guidance). */
export function benchPipeline(pipe: EmojiPipeline, batches = [1, 8], reps = 9): CallTiming[] {
  const [h, w, c] = pipe.latentShape;
  const byBatch = new Map<number, number[]>();
  for (const batch of batches) {
    const x = tf.randomNormal([batch, h, w, c], 0, 1, 'float32', 7) as tf.Tensor4D;
    const times = new Array<number>(batch).fill(500);
    const classes = Array.from({ length: batch }, (_, i) => (i < batch / 2 ? 0 : 1));
    const call = (): number => {
      const t0 = performance.now();
      const out = pipe.denoiser.predict(x, times, classes);
      out.dataSync();
      const dt = performance.now() - t0;
      out.dispose();
      return dt;
    };
    const warmStart = performance.now();
    for (let i = 0; i < 2 || performance.now() - warmStart < 2000; i++) call();
    byBatch.set(batch, Array.from({ length: reps }, call));
    x.dispose();
  }
  return summarise(byBatch);
}

/**
 * Text-to-image: the prompt (and negative prompt) on the pipeline's denoiser, the same
 * DiffusionRun over its latents, the final latents through the VAE decoder, RGB PNGs.
 */
export async function generateWithPipeline(
  pipe: EmojiPipeline,
  dir: string,
  backend: CliBackend,
  options: GenerateOptions,
  log: (line: string) => void = () => {},
): Promise<GenerateResult> {
  const { card } = pipe;
  if (options.allClasses || options.classes.length !== 1 || options.classes[0] !== 0) {
    throw new UsageError(`${card.id} is a text-to-image model: use --prompt, not --class`);
  }
  const total = options.count;
  if (options.seed + total - 1 > 2 ** 32 - 1) {
    throw new UsageError(`--seed ${options.seed} + ${total} images passes 2^32 - 1`);
  }
  const preset = findSamplerPreset(options.sampler);
  if (!preset) throw new UsageError(`unknown sampler '${options.sampler}'`);
  if (options.eta !== 0 && !preset.usesEta) {
    log(`note: ${options.sampler} ignores --eta (only DDIM uses it)`);
  }
  prepareOutDir(options.out, options.overwrite);
  const prompt = options.prompt ?? '';
  const negativePrompt = options.negativePrompt;
  const images = Array.from({ length: total }, (_, index) => ({
    file: promptSampleFileName(index),
    index,
    seed: options.seed + index,
  }));
  const sr = options.upscale ? await loadUpscaler(options.modelsDir, dir) : null;
  const upscaled: { file: string; seconds: number }[] = [];
  const upscaledBytes: Uint8Array[] = [];
  const srLevel = sr ? (options.upscaleNoiseLevel ?? sr.card.defaultNoiseLevel) : 0;

  const callMs = new Map<number, number[]>();
  const denoiser = pipe.denoiser;
  const timed: RunModel = {
    ...pipe.runModel,
    denoiser: {
      predictionType: denoiser.predictionType,
      nullClass: denoiser.nullClass,
      imageShape: denoiser.imageShape,
      predict: (x, timesteps, classIds) => {
        const t0 = performance.now();
        const out = denoiser.predict(x, timesteps, classIds);
        const list = callMs.get(x.shape[0]) ?? [];
        list.push(performance.now() - t0);
        callMs.set(x.shape[0], list);
        return out;
      },
    },
  };

  const unetWeights = card.components.unet.weights;
  const sha256 = unetWeights?.sha256 ?? '';
  log(
    `${card.id} (text-to-image, U-Net sha256 ${sha256.slice(0, 12)}..., trained ${
      card.training?.steps ?? '?'
    } steps) on ${backend}: ${total} image(s) of ${JSON.stringify(prompt)}` +
      (negativePrompt ? `, negative ${JSON.stringify(negativePrompt)}` : '') +
      `, ${options.sampler}, ${options.steps} steps, guidance ${options.guidance}, batch ${options.batch}`,
  );
  const maxWords = pipe.tokenizer.maxLength - 2;
  const promptTokens = pipe.tokenizer.encode(prompt);
  const negativeTokens = pipe.tokenizer.encode(negativePrompt);
  for (const [what, text, t] of [
    ['prompt', prompt, promptTokens],
    ['negative prompt', negativePrompt, negativeTokens],
  ] as const) {
    const note = describePrompt(what, text, { ...t, words: t.words.length }, maxWords);
    if (note) log(`note: ${note}`);
  }
  if (prompt.trim() === '') log('note: empty prompt: unconditional samples');

  const [h, w] = pipe.pixelShape;
  const bytes: Uint8Array[] = [];
  const start = performance.now();
  for (let b = 0; b < images.length; b += options.batch) {
    const chunk = images.slice(b, b + options.batch);
    const t0 = performance.now();
    const batch = generateEmojiBatch(
      pipe,
      {
        prompt,
        negativePrompt,
        seeds: chunk.map((im) => im.seed),
        sampler: options.sampler,
        steps: options.steps,
        guidance: options.guidance,
        eta: options.eta,
        spacing: options.spacing,
        schedule: options.schedule,
      },
      timed,
    );
    const size = h * w * 3;
    chunk.forEach((im, i) => {
      const one = rgbBytes(batch.pixels.subarray(i * size, (i + 1) * size));
      bytes.push(one);
      writeFileSync(join(options.out, im.file), encodeRgbPng(one, w, h));
    });
    const dt = (performance.now() - t0) / 1000;
    log(
      `  images ${b}..${b + chunk.length - 1}: ${batch.modelCalls} model calls + decode in ` +
        `${dt.toFixed(1)} s (${((dt * 1000) / batch.modelCalls).toFixed(0)} ms per step)`,
    );
    if (sr) {
      // The cascade: the 32x32 images, as the PNGs hold them, condition the SR stage.
      const t1 = performance.now();
      const lowRes = new Float32Array(chunk.length * size);
      chunk.forEach((_, i) =>
        lowRes.set(bytesToUnit(bytes[bytes.length - chunk.length + i]), i * size),
      );
      const big = upscaleBatch(
        sr,
        lowRes,
        chunk.map((im) => im.seed),
        [h, w, 3],
        {
          sampler: options.upscaleSampler,
          steps: options.upscaleSteps,
          noiseLevel: srLevel,
        },
      );
      const bigSize = 4 * size;
      const seconds = (performance.now() - t1) / 1000;
      chunk.forEach((im, i) => {
        const one = rgbBytes(big.subarray(i * bigSize, (i + 1) * bigSize));
        upscaledBytes.push(one);
        writeFileSync(
          join(options.out, upscaledFileName(im.file)),
          encodeRgbPng(one, 2 * w, 2 * h),
        );
        upscaled.push({ file: upscaledFileName(im.file), seconds: seconds / chunk.length });
      });
      log(
        `  upscaled to ${2 * w}x${2 * h} (${options.upscaleSampler}, ${options.upscaleSteps} steps) in ${seconds.toFixed(1)} s`,
      );
    }
  }
  const seconds = (performance.now() - start) / 1000;

  const cols = Math.ceil(Math.sqrt(total));
  const sheet = rgbContactSheet(bytes, { width: w, height: h }, cols);
  const sheetFile = join(options.out, 'sheet.png');
  writeFileSync(sheetFile, encodeRgbPng(sheet.rgb, sheet.width, sheet.height));
  if (sr) {
    const big = rgbContactSheet(upscaledBytes, { width: 2 * w, height: 2 * h }, cols);
    writeFileSync(join(options.out, 'sheet_x2.png'), encodeRgbPng(big.rgb, big.width, big.height));
    sr.unet.dispose();
  }

  const runCalls = summarise(callMs);
  const bench = options.bench ? benchPipeline(pipe) : [];
  const result: GenerateResult = {
    backend,
    model: { id: card.id, dir, sha256, trainingSteps: card.training?.steps ?? null },
    files: images.map((im) => join(options.out, im.file)),
    sheet: sheetFile,
    images,
    seconds,
    imagesPerSecond: total / seconds,
    runCalls,
    bench,
  };
  const record = {
    settings: {
      model: options.model,
      prompt,
      negativePrompt,
      count: options.count,
      sampler: options.sampler,
      steps: options.steps,
      guidance: options.guidance,
      seed: options.seed,
      eta: options.eta,
      spacing: options.spacing,
      schedule: options.schedule,
      batch: options.batch,
      backend: options.backend,
    },
    ...(sr && {
      upscale: {
        model: sr.card.id,
        sha256: sr.card.unet.weights.sha256,
        trainingSteps: sr.card.training.steps ?? null,
        sampler: options.upscaleSampler,
        steps: options.upscaleSteps,
        noiseLevel: srLevel,
        files: upscaled,
      },
    }),
    tokens: {
      prompt: {
        ids: promptTokens.ids,
        unknown: promptTokens.unknown,
        truncated: promptTokens.truncated,
      },
      negative: {
        ids: negativeTokens.ids,
        unknown: negativeTokens.unknown,
        truncated: negativeTokens.truncated,
      },
    },
    ...result,
    files: undefined,
  };
  writeFileSync(join(options.out, 'generate.json'), JSON.stringify(record, null, 2) + '\n');
  for (const t of runCalls) {
    log(
      `model calls at batch ${t.batch}: ${t.calls} calls, mean ${t.meanMs.toFixed(1)} ms, ` +
        `median ${t.medianMs.toFixed(1)} ms (${(t.medianMs / t.batch).toFixed(1)} ms per latent)`,
    );
  }
  for (const t of bench) {
    log(
      `bench: one U-Net evaluation at batch ${t.batch} on ${backend}: median ` +
        `${t.medianMs.toFixed(1)} ms over ${t.calls} calls`,
    );
  }
  log(
    `${total} image(s) in ${seconds.toFixed(1)} s: ${result.imagesPerSecond.toFixed(2)} images/s; ` +
      `wrote ${options.out}/ (${total} RGB PNGs${sr ? `, ${total} 64x64 ones (_x2), sheet_x2.png` : ''}, sheet.png, generate.json)`,
  );
  return result;
}
