// The super-resolution stage as a denoiser the run can drive (DESIGN: "conditioning is data the
// denoiser carries"): it holds the low-res images, noise-augmented once to the chosen level (CDM /
// Imagen noise-conditioning augmentation), and every model call reads them. So every sampler,
// the step-by-step view and stepping back work unchanged; the run never asks what conditions it.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor4D } from '@tensorflow/tfjs-core';
import type { DenoiseModel } from '../denoiser';
import { Xoshiro128, gaussianArray } from '../gaussian';
import type { RunModel } from '../run/diffusionRun';
import { makeNoiseTables, type NoiseScheduleConfig } from '../schedule/betas';
import type { SRCard } from './srCard';
import type { SRUNet } from './srUNet';

/** Salt for the augmentation noise streams: the run's own noise (seeded by `seeds`) stays untouched. */
const AUGMENT_SALT = 0x2545f491;

/** The seed of image i's augmentation noise, from the run seed (a stream apart from the run's). */
export function augmentSeed(seed: number): number {
  return (seed ^ AUGMENT_SALT) >>> 0;
}

/**
 * sqrt(abar_s) y + sqrt(1 - abar_s) eps per image, eps from each image's own seeded stream (the
 * same numbers in Node and every backend). Level 0 returns y unchanged. `lowRes` NHWC floats.
 */
export function augmentLowRes(
  lowRes: Float32Array,
  perImage: number,
  level: number,
  alphasCumprod: ArrayLike<number>,
  seeds: readonly number[],
): Float32Array {
  if (!Number.isInteger(level) || level < 0 || level >= alphasCumprod.length) {
    throw new Error(
      `noise level must be a whole number in [0, ${alphasCumprod.length - 1}], got ${level}`,
    );
  }
  if (lowRes.length !== perImage * seeds.length) {
    throw new Error(`${lowRes.length} low-res values for ${seeds.length} images of ${perImage}`);
  }
  if (level === 0) return lowRes.slice();
  const a = Math.sqrt(alphasCumprod[level]);
  const s = Math.sqrt(1 - alphasCumprod[level]);
  const out = new Float32Array(lowRes.length);
  seeds.forEach((seed, i) => {
    const eps = gaussianArray(new Xoshiro128(augmentSeed(seed)), perImage);
    for (let k = 0; k < perImage; k++)
      out[i * perImage + k] = a * lowRes[i * perImage + k] + s * eps[k];
  });
  return out;
}

export interface SRConditioningInput {
  /** The low-res images, NHWC [B, h, w, 3] flat, values in [-1, 1]. */
  lowRes: Float32Array;
  /** Noise-augmentation level s (integer training timestep; 0 = the image as given). */
  noiseLevel: number;
  /** The run's seeds, one per image: the augmentation noise of image i comes from seeds[i]. */
  seeds: readonly number[];
  /**
   * [h, w, 3] of one low-res image (default the card's, 32x32x3). The network is fully
   * convolutional: any h, w that are multiples of half its size multiple work; the output is 2h x 2w.
   */
  shape?: [number, number, number];
}

/**
 * A RunModel for the SR U-Net conditioned on `input`. `dispose()` frees the conditioning tensor
 * (not the network). `setNoiseLevel` re-augments between steps (the run's next model call sees it).
 */
export class SRConditionedModel {
  readonly runModel: RunModel;
  readonly lowResShape: [number, number, number];
  private lowResTensor: Tensor4D;
  private level: number;
  private readonly alphasCumprod: Float32Array;

  constructor(
    private readonly unet: SRUNet,
    card: SRCard,
    private readonly input: SRConditioningInput,
  ) {
    const scheduleConfig: Record<string, unknown> = { ...card.scheduler };
    delete scheduleConfig._class_name;
    this.alphasCumprod = makeNoiseTables(
      scheduleConfig as unknown as NoiseScheduleConfig,
    ).alphasCumprod;
    const [h, w, c] = input.shape ?? card.lowResShape;
    if (c !== card.lowResShape[2] || (2 * h) % unet.sizeMultiple || (2 * w) % unet.sizeMultiple) {
      throw new Error(
        `a ${h}x${w}x${c} low-res image does not fit: need ${card.lowResShape[2]} channels and sides that are multiples of ${unet.sizeMultiple / 2}`,
      );
    }
    const batch = input.seeds.length;
    if (input.lowRes.length !== batch * h * w * c) {
      throw new Error(
        `the low-res input holds ${input.lowRes.length} values, ${batch} images of ${h}x${w}x${c} need ${batch * h * w * c}`,
      );
    }
    this.lowResShape = [h, w, c];
    this.level = input.noiseLevel;
    this.lowResTensor = this.augmented(input.noiseLevel);
    const [H, W, C] = [2 * h, 2 * w, card.imageShape[2]];
    const denoiser: DenoiseModel = {
      predictionType: card.predictionType,
      // The SR model has no "no condition": CFG is off for this stage (guidance 1); a null-class
      // half, if a caller asks for one anyway, gets the same low-res image (so it equals the other).
      nullClass: 0,
      imageShape: [H, W, C],
      predict: (x: Tensor4D, timesteps: number[]) => this.predict(x, timesteps),
    };
    this.runModel = { denoiser, numClasses: 1, scheduleConfig };
  }

  get noiseLevel(): number {
    return this.level;
  }

  /** The low-res images as the model reads them (after augmentation), NHWC floats. */
  augmentedLowRes(): Float32Array {
    return this.lowResTensor.dataSync() as Float32Array;
  }

  setNoiseLevel(level: number): void {
    if (level === this.level) return;
    const next = this.augmented(level);
    this.lowResTensor.dispose();
    this.lowResTensor = next;
    this.level = level;
  }

  private augmented(level: number): Tensor4D {
    const [h, w, c] = this.lowResShape;
    const perImage = h * w * c;
    const values = augmentLowRes(
      this.input.lowRes,
      perImage,
      level,
      this.alphasCumprod,
      this.input.seeds,
    );
    return tf.tensor4d(values, [this.input.seeds.length, h, w, c]);
  }

  private predict(x: Tensor4D, timesteps: number[]): Tensor4D {
    const batch = this.input.seeds.length;
    const n = x.shape[0];
    if (n % batch) throw new Error(`SR model call on ${n} images for a run of ${batch}`);
    const levels = new Array<number>(n).fill(this.level);
    if (n === batch) return this.unet.predict(x, timesteps, this.lowResTensor, levels);
    return tf.tidy(() => {
      const tiled = tf.concat(new Array<Tensor4D>(n / batch).fill(this.lowResTensor));
      return this.unet.predict(x, timesteps, tiled, levels);
    });
  }

  dispose(): void {
    this.lowResTensor.dispose();
  }
}
