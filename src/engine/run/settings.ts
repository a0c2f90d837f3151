// What the user controls in a run, and which changes need the remaining steps re-planned.
import type { TimestepSpacing } from '../schedulers/types';
import type { OutpaintSettings } from '../outpaint/outpaintSettings';

export type SigmaSchedule = 'default' | 'karras' | 'exponential';

export interface SourceImage {
  /** One image, HWC, values in [-1, 1]. */
  pixels: Float32Array;
}

export interface InpaintSettings extends SourceImage {
  /** HW, 1 where the image is re-imagined, 0 where the source is kept (fractions feather). */
  mask: Float32Array;
}

export interface Img2ImgSettings extends SourceImage {
  /** 0 keeps the source, 1 starts from pure noise (diffusers' img2img strength). */
  strength: number;
}

export interface RunSettings {
  /** A sampler preset name from samplerPresets.ts, e.g. "DPM++ 2M". */
  sampler: string;
  steps: number;
  /** null keeps the scheduler's own default spacing. */
  spacing: TimestepSpacing | null;
  sigmaSchedule: SigmaSchedule;
  guidanceScale: number;
  /** DDIM's eta (ignored by other samplers). */
  eta: number;
  /** One class id per image. */
  classes: number[];
  /** One seed per image: the batch size is seeds.length. */
  seeds: number[];
  inpaint: InpaintSettings | null;
  img2img: Img2ImgSettings | null;
  /**
   * Outpainting: the run is on a canvas of this size, larger than the model's images, through
   * overlapping model-sized windows (engine/outpaint). `inpaint` is then at canvas size, the known
   * image placed on it. null or absent: the model's own size.
   */
  outpaint?: OutpaintSettings | null;
  /**
   * RePaint's resampling (jump_n_sample r), only while inpainting: every jump point is passed r
   * times, i.e. the run jumps back r - 1 times there. 1 (the default) turns resampling off.
   */
  resampleCount?: number;
  /** RePaint's jump_length j: solver steps per jump back, and between jump points. Default 1. */
  jumpLength?: number;
  /**
   * Classifier guidance strength s (Dhariwal & Nichol): eps - s·sqrt(1 - alphā)·grad log p(y|x_t)
   * from the model's noisy-image classifier. 0 (the default) is off.
   */
  classifierGuidanceScale?: number;
  /**
   * Langevin corrector steps after each solver step (Song et al.'s predictor-corrector sampling;
   * 0, the default, is off). For the Annealed Langevin sampler: its steps per noise level.
   */
  langevinSteps?: number;
  /** The corrector's target signal-to-noise ratio, which sets its step size (default 0.16). */
  langevinSnr?: number;
  /** Text-conditioned pipelines: the prompt, and the negative prompt that replaces "" in CFG. */
  prompt?: string;
  negativePrompt?: string;
}

export const MAX_CLASSIFIER_GUIDANCE = 100;
// Here rather than in langevin.ts: the page imports these limits and must not load tfjs.
export const MAX_LANGEVIN_STEPS = 10;
export const DEFAULT_LANGEVIN_SNR = 0.16;

export const MAX_RESAMPLE_COUNT = 20;
export const MAX_JUMP_LENGTH = 10;

/** Changes that alter the plan of remaining timesteps. */
export const REPLAN_KEYS = ['sampler', 'steps', 'spacing', 'sigmaSchedule'] as const;

/** The sampler whose plan length depends on the Langevin steps (one plan position per step). */
export const ANNEALED_LANGEVIN = 'Annealed Langevin';

/** `sampler`: the run's sampler after the patch (Langevin steps re-plan the annealed sampler only). */
export function needsReplan(patch: Partial<RunSettings>, sampler?: string): boolean {
  if (REPLAN_KEYS.some((key) => key in patch)) return true;
  return sampler === ANNEALED_LANGEVIN && ('langevinSteps' in patch || 'langevinSnr' in patch);
}

export function validateSettings(
  s: RunSettings,
  imageShape: readonly [number, number, number],
  numClasses: number,
): void {
  const [height, width, channels] = imageShape;
  const imageSize = height * width * channels;
  if (!Number.isInteger(s.steps) || s.steps < 1 || s.steps > 1000) {
    throw new Error(`Steps must be a whole number from 1 to 1000 (got ${s.steps})`);
  }
  if (!Number.isFinite(s.guidanceScale) || s.guidanceScale < 0 || s.guidanceScale > 50) {
    throw new Error(`Guidance scale must be between 0 and 50 (got ${s.guidanceScale})`);
  }
  if (!Number.isFinite(s.eta) || s.eta < 0 || s.eta > 1) {
    throw new Error(`eta must be between 0 and 1 (got ${s.eta})`);
  }
  if (s.seeds.length < 1 || s.seeds.length > 64) {
    throw new Error(`Batch size must be 1 to 64 (got ${s.seeds.length})`);
  }
  if (!s.seeds.every((seed) => Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) {
    throw new Error('Seeds must be whole numbers from 0 to 4294967295');
  }
  if (s.classes.length !== s.seeds.length) {
    throw new Error(
      `Need one class per image (${s.classes.length} classes, ${s.seeds.length} images)`,
    );
  }
  if (!s.classes.every((c) => Number.isInteger(c) && c >= 0 && c <= numClasses)) {
    throw new Error(`Class ids must be 0 to ${numClasses - 1} (or ${numClasses}, no class)`);
  }
  const source = s.inpaint ?? s.img2img;
  if (source && source.pixels.length !== imageSize) {
    throw new Error(
      `The source image has ${source.pixels.length} values, the model needs ${imageSize}`,
    );
  }
  if (s.inpaint && s.inpaint.mask.length !== height * width) {
    throw new Error(`The mask has ${s.inpaint.mask.length} values, the image ${height}x${width}`);
  }
  // An outpainting run's model is the windowed one (windowedRunModel): its images are the canvas.
  if (s.outpaint && (s.outpaint.height !== height || s.outpaint.width !== width)) {
    throw new Error(
      `The outpainting canvas is ${s.outpaint.width}×${s.outpaint.height}, the run's images ` +
        `${width}×${height}`,
    );
  }
  if (s.img2img && !(s.img2img.strength >= 0 && s.img2img.strength <= 1)) {
    throw new Error(`Strength must be between 0 and 1 (got ${s.img2img.strength})`);
  }
  const resampleCount = s.resampleCount ?? 1;
  if (!Number.isInteger(resampleCount) || resampleCount < 1 || resampleCount > MAX_RESAMPLE_COUNT) {
    throw new Error(
      `Resampling must be a whole number from 1 (off) to ${MAX_RESAMPLE_COUNT} (got ${resampleCount})`,
    );
  }
  const jumpLength = s.jumpLength ?? 1;
  if (!Number.isInteger(jumpLength) || jumpLength < 1 || jumpLength > MAX_JUMP_LENGTH) {
    throw new Error(
      `Jump length must be a whole number from 1 to ${MAX_JUMP_LENGTH} (got ${jumpLength})`,
    );
  }
  const cg = s.classifierGuidanceScale ?? 0;
  if (!Number.isFinite(cg) || cg < 0 || cg > MAX_CLASSIFIER_GUIDANCE) {
    throw new Error(
      `Classifier guidance must be between 0 and ${MAX_CLASSIFIER_GUIDANCE} (got ${cg})`,
    );
  }
  const langevinSteps = s.langevinSteps ?? 0;
  if (!Number.isInteger(langevinSteps) || langevinSteps < 0 || langevinSteps > MAX_LANGEVIN_STEPS) {
    throw new Error(
      `Langevin steps must be a whole number from 0 to ${MAX_LANGEVIN_STEPS} (got ${langevinSteps})`,
    );
  }
  const snr = s.langevinSnr ?? DEFAULT_LANGEVIN_SNR;
  if (!Number.isFinite(snr) || snr <= 0 || snr > 1) {
    throw new Error(`Langevin SNR must be above 0 and at most 1 (got ${snr})`);
  }
  if (jumpLength > s.steps) {
    throw new Error(`Jump length (${jumpLength}) cannot be more than the steps (${s.steps})`);
  }
}
