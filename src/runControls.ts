// What the user sets for a run in the UI, and how it becomes the engine's RunSettings. Pure data:
// no tfjs (the UI bundle stays free of it), no React.
import type { InpaintSettings, Img2ImgSettings, RunSettings } from './engine/run/settings';
import {
  DEFAULT_LANGEVIN_SNR,
  MAX_CLASSIFIER_GUIDANCE,
  MAX_LANGEVIN_STEPS,
  type SigmaSchedule,
} from './engine/run/settings';
import { findSamplerPreset } from './engine/samplerPresets';
import type { TimestepSpacing } from './engine/schedulers/types';
import type { PlanSettings, RunPatch } from './worker/protocol';

export type SpacingChoice = 'default' | TimestepSpacing;
export const SPACING_CHOICES: readonly SpacingChoice[] = [
  'default',
  'linspace',
  'leading',
  'trailing',
];
export const SIGMA_SCHEDULES: readonly SigmaSchedule[] = ['default', 'karras', 'exponential'];
export const BATCH_SIZES = [1, 4, 9, 16] as const;
export type BatchSize = (typeof BATCH_SIZES)[number];
export const MAX_STEPS = 200;
export const MAX_GUIDANCE = 20;
export const MAX_SEED = 2 ** 32 - 1;
export { DEFAULT_LANGEVIN_SNR, MAX_CLASSIFIER_GUIDANCE, MAX_LANGEVIN_STEPS };
/** The classifier-guidance slider's range (the engine takes up to MAX_CLASSIFIER_GUIDANCE). */
export const MAX_CLASSIFIER_GUIDANCE_CONTROL = 20;

export interface RunControls {
  /** Model id from public/models/index.json; null until the list has loaded. */
  modelId: string | null;
  /** A class id from the model card, or the card's null class id for "no class". */
  classId: number;
  sampler: string;
  spacing: SpacingChoice;
  sigmaSchedule: SigmaSchedule;
  steps: number;
  guidanceScale: number;
  eta: number;
  seed: number;
  batchSize: BatchSize;
  /** RePaint's resampling while inpainting (RunSettings.resampleCount; 1 = off). */
  resampleCount: number;
  /** RePaint's jump length; the run gets at most the step count. */
  jumpLength: number;
  /** Classifier guidance strength (0 = off), for class models with a noisy classifier. */
  classifierGuidanceScale: number;
  /** Langevin corrector steps after each step (0 = off); Annealed Langevin's steps per level. */
  langevinSteps: number;
  langevinSnr: number;
  /** Text-conditioned models (the emoji pipeline): what to draw, and what to steer away from. */
  prompt: string;
  negativePrompt: string;
}

/** Longer prompts are cut (the tokenizer keeps far fewer words anyway). */
export const MAX_PROMPT_CHARS = 500;

export const DEFAULT_CONTROLS: RunControls = {
  modelId: null,
  classId: 0,
  sampler: 'DPM++ 2M',
  spacing: 'default',
  sigmaSchedule: 'default',
  steps: 20,
  guidanceScale: 3,
  eta: 0,
  seed: 42,
  batchSize: 4,
  resampleCount: 1,
  jumpLength: 1,
  classifierGuidanceScale: 0,
  langevinSteps: 0,
  langevinSnr: DEFAULT_LANGEVIN_SNR,
  prompt: 'red heart',
  negativePrompt: '',
};

/** Image i gets seed + i (wrapping at 2^32), so one seed names the whole batch. */
export function batchSeeds(seed: number, batchSize: number): number[] {
  return Array.from({ length: batchSize }, (_, i) => (seed + i) % 2 ** 32);
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 1_000_000);
}

export function usesEta(sampler: string): boolean {
  return findSamplerPreset(sampler)?.usesEta ?? false;
}

export function planSettingsOf(c: RunControls): PlanSettings {
  return {
    sampler: c.sampler,
    steps: c.steps,
    spacing: c.spacing === 'default' ? null : c.spacing,
    sigmaSchedule: c.sigmaSchedule,
    langevinSteps: c.langevinSteps,
    langevinSnr: c.langevinSnr,
  };
}

/** The source image the run starts from or keeps, as the source editor describes it. */
export interface SourceChoice {
  inpaint: InpaintSettings | null;
  img2img: Img2ImgSettings | null;
}

export function buildRunSettings(c: RunControls, source: SourceChoice): RunSettings {
  return {
    ...planSettingsOf(c),
    guidanceScale: c.guidanceScale,
    eta: c.eta,
    classes: new Array<number>(c.batchSize).fill(c.classId),
    seeds: batchSeeds(c.seed, c.batchSize),
    inpaint: source.inpaint,
    img2img: source.img2img,
    resampleCount: c.resampleCount,
    jumpLength: jumpLengthOf(c),
    classifierGuidanceScale: c.classifierGuidanceScale,
    prompt: c.prompt,
    negativePrompt: c.negativePrompt,
  };
}

/** A jump cannot be longer than the plan: lowering Steps shortens it rather than failing. */
function jumpLengthOf(c: RunControls): number {
  return Math.min(c.jumpLength, c.steps);
}

/**
 * The part of a controls change a running run can take (seed, batch and model cannot).
 * `runBatchSize` is the running run's batch size: the controls' one applies to the next run.
 */
export function runPatchOf(
  before: RunControls,
  after: RunControls,
  runBatchSize: number = after.batchSize,
): RunPatch {
  const patch: RunPatch = {};
  const plan = planSettingsOf(after);
  const old = planSettingsOf(before);
  if (plan.sampler !== old.sampler) patch.sampler = plan.sampler;
  if (plan.steps !== old.steps) patch.steps = plan.steps;
  if (plan.spacing !== old.spacing) patch.spacing = plan.spacing;
  if (plan.sigmaSchedule !== old.sigmaSchedule) patch.sigmaSchedule = plan.sigmaSchedule;
  if (after.guidanceScale !== before.guidanceScale) patch.guidanceScale = after.guidanceScale;
  if (after.eta !== before.eta) patch.eta = after.eta;
  if (after.classId !== before.classId) {
    patch.classes = new Array<number>(runBatchSize).fill(after.classId);
  }
  if (after.resampleCount !== before.resampleCount) patch.resampleCount = after.resampleCount;
  if (jumpLengthOf(after) !== jumpLengthOf(before)) patch.jumpLength = jumpLengthOf(after);
  if (after.classifierGuidanceScale !== before.classifierGuidanceScale) {
    patch.classifierGuidanceScale = after.classifierGuidanceScale;
  }
  if (plan.langevinSteps !== old.langevinSteps) patch.langevinSteps = plan.langevinSteps;
  if (plan.langevinSnr !== old.langevinSnr) patch.langevinSnr = plan.langevinSnr;
  if (after.prompt !== before.prompt) patch.prompt = after.prompt;
  if (after.negativePrompt !== before.negativePrompt) patch.negativePrompt = after.negativePrompt;
  return patch;
}
