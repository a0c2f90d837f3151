// One image's bound as the worker computes it for the panel: the request the page sends, the
// report it gets back, and the job in between (the model's card decides T and the variance).
import type { DenoiseModel } from '../denoiser';
import { ElboEstimate, type ElboTerm } from './elboEstimate';
import { quantizeTo8Bit } from './gaussianTerms';
import { runInChunks, type ChunkHooks } from './runInChunks';
import { klTermCount } from './timestepStrata';
import { vbTablesFromScheduler, type FixedVariance } from './vbTables';

export interface ElboRequest {
  /** H·W·C values in [-1, 1], NHWC; moved onto the 8-bit grid before use. */
  pixels: number[];
  /** The class to condition on, or null for the unconditional bound (the model's null class). */
  classId: number | null;
  /** KL terms to evaluate: K (stratified estimate) or 'all'. */
  timesteps: number | 'all';
  seed: number;
}

export interface ElboReport {
  /** The variance the card names (the headline bound) and the other one. */
  variance: FixedVariance;
  bitsPerDim: number;
  decoderBits: number;
  priorBits: number;
  klSumBits: number;
  /** The same bound with the other fixed variance. */
  other: { variance: FixedVariance; bitsPerDim: number; klSumBits: number };
  /** Terms evaluated (t = 0 is L_0), bits/dim under `variance`, and how many terms each stands for. */
  terms: { t: number; weight: number; bits: number }[];
  timestepsUsed: { K: number; T: number };
  conditioning: 'class-conditional' | 'unconditional';
  classId: number;
  seconds: number;
}

/** The card's variance_type when it is a fixed one; anything else is refused with a message. */
export function fixedVarianceOf(scheduler: Record<string, unknown>): FixedVariance {
  const v = scheduler.variance_type ?? 'fixed_small';
  if (v !== 'fixed_small' && v !== 'fixed_large') {
    throw new Error(`the model's variance_type '${String(v)}' is not a fixed variance`);
  }
  return v;
}

export async function computeElboReport(
  model: DenoiseModel,
  scheduler: Record<string, unknown>,
  request: ElboRequest,
  hooks: ChunkHooks,
): Promise<ElboReport | null> {
  const variance = fixedVarianceOf(scheduler);
  const tables = vbTablesFromScheduler(scheduler);
  const T = tables.numTimesteps;
  const K =
    request.timesteps === 'all' ? klTermCount(T) : Math.min(request.timesteps, klTermCount(T));
  const classId = request.classId ?? model.nullClass;
  const start = performance.now();
  const estimate = new ElboEstimate(
    model,
    tables,
    [{ pixels: quantizeTo8Bit(request.pixels), classId }],
    { timesteps: K, seed: request.seed, clipDenoised: true, batchSize: 16 },
  );
  const results = await runInChunks(estimate, hooks);
  if (!results) return null;
  const r = results[0];
  const small = variance === 'fixed_small';
  const bitsOf = (term: ElboTerm) => (small ? term.fixedSmall : term.fixedLarge);
  return {
    variance,
    bitsPerDim: small ? r.bitsPerDim : r.bitsPerDimLarge,
    decoderBits: r.decoderBits,
    priorBits: r.priorBits,
    klSumBits: small ? r.klSumBits : r.klSumBitsLarge,
    other: {
      variance: small ? 'fixed_large' : 'fixed_small',
      bitsPerDim: small ? r.bitsPerDimLarge : r.bitsPerDim,
      klSumBits: small ? r.klSumBitsLarge : r.klSumBits,
    },
    terms: r.terms.map((term) => ({ t: term.t, weight: term.weight, bits: bitsOf(term) })),
    timestepsUsed: { K, T },
    conditioning: request.classId === null ? 'unconditional' : 'class-conditional',
    classId,
    seconds: (performance.now() - start) / 1000,
  };
}
