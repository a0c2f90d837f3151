// The bound for a set of images, one batched model call at a time, so a caller (the worker, the
// CLI) can report progress and yield between calls. Every image gets the exact L_0 and L_T and
// either every KL term L_1..L_{T-1} or a stratified sample of K of them (timestepStrata.ts); each
// evaluated term draws its own x_t ~ q(x_t | x_0), as improved-diffusion's calc_bpd_loop does.
import * as tf from '@tensorflow/tfjs-core';
import type { DenoiseModel } from '../denoiser';
import { Xoshiro128, gaussianArray } from '../gaussian';
import { klTermCount, stratifiedTimesteps } from './timestepStrata';
import type { VbTables } from './vbTables';
import { priorBits, vbTermBits } from './vbTerms';

export interface ElboImage {
  /** H·W·C values in [-1, 1] on the 8-bit grid (see quantizeTo8Bit), NHWC order. */
  pixels: Float32Array;
  /** The class the model is told; the model's null class for the unconditional bound. */
  classId: number;
}

export interface ElboSettings {
  /** KL terms per image: K for a stratified estimate, or 'all' for the exact sum (T-1 terms). */
  timesteps: number | 'all';
  /** Image i draws its timesteps and noise from the stream seeded with seed + i. */
  seed: number;
  /** Clip predicted x_0 to [-1, 1] (improved-diffusion's default, clip_denoised=True). */
  clipDenoised: boolean;
  /** (image, t) pairs per model call. */
  batchSize: number;
}

export const DEFAULT_ELBO_SETTINGS: ElboSettings = {
  timesteps: 50,
  seed: 0,
  clipDenoised: true,
  batchSize: 16,
};

/** One evaluated term, bits per dimension; `weight` terms of the sum stand on it. */
export interface ElboTerm {
  t: number;
  weight: number;
  fixedSmall: number;
  fixedLarge: number;
}

export interface ElboImageResult {
  /** The bound with fixed_small (beta-tilde) variances: L_0 + sum L_t + L_T. */
  bitsPerDim: number;
  /** The same with fixed_large (beta_t) variances. */
  bitsPerDimLarge: number;
  decoderBits: number;
  priorBits: number;
  /** sum over t = 1 .. T-1 of L_t (estimated when K < T-1). */
  klSumBits: number;
  klSumBitsLarge: number;
  /** Every evaluated term, t ascending, L_0 (t = 0) first. */
  terms: ElboTerm[];
}

interface Pair {
  image: number;
  t: number;
  weight: number;
}

export class ElboEstimate {
  readonly pairsTotal: number;
  private pairsDone = 0;
  private readonly pairs: Pair[];
  private readonly rngs: Xoshiro128[];
  private readonly terms: ElboTerm[][];
  private readonly dims: number;

  constructor(
    private readonly model: DenoiseModel,
    private readonly tables: VbTables,
    private readonly images: ElboImage[],
    private readonly settings: ElboSettings,
  ) {
    const [h, w, c] = model.imageShape;
    this.dims = h * w * c;
    const T = tables.numTimesteps;
    const k = settings.timesteps === 'all' ? klTermCount(T) : settings.timesteps;
    if (!Number.isInteger(k) || k < 1) throw new Error(`timesteps must be 'all' or >= 1, got ${k}`);
    if (!Number.isInteger(settings.batchSize) || settings.batchSize < 1) {
      throw new Error(`batch size must be >= 1, got ${settings.batchSize}`);
    }
    images.forEach((im, i) => {
      if (im.pixels.length !== this.dims) {
        throw new Error(
          `image ${i} has ${im.pixels.length} values; the model takes ${h}x${w}x${c}`,
        );
      }
    });
    this.rngs = images.map((_, i) => new Xoshiro128((settings.seed + i) >>> 0));
    this.pairs = images.flatMap((_, image) => [
      { image, t: 0, weight: 1 },
      ...stratifiedTimesteps(T, k, this.rngs[image]).map((p) => ({ image, ...p })),
    ]);
    this.pairsTotal = this.pairs.length;
    this.terms = images.map(() => []);
  }

  get done(): boolean {
    return this.pairsDone >= this.pairsTotal;
  }

  get progress(): { pairsDone: number; pairsTotal: number } {
    return { pairsDone: this.pairsDone, pairsTotal: this.pairsTotal };
  }

  /** Model calls the whole estimate takes. */
  get callsTotal(): number {
    return Math.ceil(this.pairsTotal / this.settings.batchSize);
  }

  /** Evaluates the next batch of (image, t) pairs with one model call. */
  async runBatch(): Promise<void> {
    const batch = this.pairs.slice(this.pairsDone, this.pairsDone + this.settings.batchSize);
    if (batch.length === 0) return;
    const d = this.dims;
    const xt = new Float32Array(batch.length * d);
    batch.forEach((p, j) => {
      const x0 = this.images[p.image].pixels;
      const eps = gaussianArray(this.rngs[p.image], d);
      const a = Math.sqrt(this.tables.alphasCumprod[p.t]);
      const s = Math.sqrt(1 - this.tables.alphasCumprod[p.t]);
      for (let i = 0; i < d; i++) xt[j * d + i] = a * x0[i] + s * eps[i];
    });
    const [h, w, c] = this.model.imageShape;
    const input = tf.tensor4d(xt, [batch.length, h, w, c]);
    let output: Float32Array;
    try {
      const out = this.model.predict(
        input,
        batch.map((p) => p.t),
        batch.map((p) => this.images[p.image].classId),
      );
      try {
        output = (await out.data()) as Float32Array;
      } finally {
        out.dispose();
      }
    } finally {
      input.dispose();
    }
    const predictionType = this.model.predictionType;
    batch.forEach((p, j) => {
      const bits = vbTermBits(this.tables, {
        t: p.t,
        x0: this.images[p.image].pixels,
        xt: { data: xt, offset: j * d },
        modelOutput: { data: output, offset: j * d },
        predictionType,
        clipDenoised: this.settings.clipDenoised,
      });
      this.terms[p.image].push({ t: p.t, weight: p.weight, ...bits });
    });
    this.pairsDone += batch.length;
  }

  /** Per-image results; call once done. */
  results(): ElboImageResult[] {
    if (!this.done) throw new Error('the estimate is not finished');
    return this.images.map((image, i) => {
      const terms = [...this.terms[i]].sort((a, b) => a.t - b.t);
      const decoder = terms[0].fixedSmall;
      const prior = priorBits(this.tables, image.pixels);
      let kl = 0;
      let klLarge = 0;
      for (const term of terms.slice(1)) {
        kl += term.weight * term.fixedSmall;
        klLarge += term.weight * term.fixedLarge;
      }
      return {
        bitsPerDim: decoder + kl + prior,
        bitsPerDimLarge: decoder + klLarge + prior,
        decoderBits: decoder,
        priorBits: prior,
        klSumBits: kl,
        klSumBitsLarge: klLarge,
        terms,
      };
    });
  }
}
