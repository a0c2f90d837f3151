// One term of the bound for one image, in bits per dimension (improved-diffusion's _vb_terms_bpd
// and _prior_bpd): t = 0 is the decoder term L_0, t >= 1 the KL term L_t between the forward
// posterior q(x_{t-1} | x_t, x_0) and the model's p(x_{t-1} | x_t), and the prior term L_T.
import { discretizedGaussianLogLikelihood, normalKl } from './gaussianTerms';
import type { VbTables } from './vbTables';

export type ElboPredictionType = 'epsilon' | 'v_prediction';

/** A term under both fixed variances; at t = 0 they coincide (both use beta-tilde_1). */
export interface TermBits {
  fixedSmall: number;
  fixedLarge: number;
}

/** A view of D values inside a larger array (one image of a batch). */
export interface Slice {
  data: ArrayLike<number>;
  offset: number;
}

export interface TermInput {
  t: number;
  x0: ArrayLike<number>;
  xt: Slice;
  modelOutput: Slice;
  predictionType: ElboPredictionType;
  /** Clip the predicted x_0 to [-1, 1] before forming the mean (improved-diffusion's default). */
  clipDenoised: boolean;
}

/** x_0 implied by the model output at x_t (eps: x_t = a·x_0 + s·eps; v = a·eps − s·x_0). */
function predictedX0(
  predictionType: ElboPredictionType,
  xt: number,
  out: number,
  a: number,
  s: number,
) {
  return predictionType === 'epsilon' ? (xt - s * out) / a : a * xt - s * out;
}

export function vbTermBits(tables: VbTables, input: TermInput): TermBits {
  const { t, x0, xt, modelOutput, predictionType, clipDenoised } = input;
  const d = x0.length;
  const abar = tables.alphasCumprod[t];
  const a = Math.sqrt(abar);
  const s = Math.sqrt(1 - abar);
  const c1 = tables.posteriorMeanCoef1[t];
  const c2 = tables.posteriorMeanCoef2[t];
  const smallLogVar = tables.posteriorLogVarianceClipped[t];
  const largeLogVar = tables.largeLogVariance[t];
  let small = 0;
  let large = 0;
  for (let i = 0; i < d; i++) {
    const xti = xt.data[xt.offset + i];
    let x0Pred = predictedX0(predictionType, xti, modelOutput.data[modelOutput.offset + i], a, s);
    if (clipDenoised) x0Pred = Math.min(1, Math.max(-1, x0Pred));
    const modelMean = c1 * x0Pred + c2 * xti;
    if (t === 0) {
      small -= discretizedGaussianLogLikelihood(x0[i], modelMean, 0.5 * smallLogVar);
    } else {
      const trueMean = c1 * x0[i] + c2 * xti;
      small += normalKl(trueMean, smallLogVar, modelMean, smallLogVar);
      large += normalKl(trueMean, smallLogVar, modelMean, largeLogVar);
    }
  }
  const toBits = 1 / (d * Math.LN2);
  return t === 0
    ? { fixedSmall: small * toBits, fixedLarge: small * toBits }
    : { fixedSmall: small * toBits, fixedLarge: large * toBits };
}

/** L_T = KL(q(x_T | x_0) || N(0, I)) in bits per dimension: needs no model call. */
export function priorBits(tables: VbTables, x0: ArrayLike<number>): number {
  const last = tables.numTimesteps - 1;
  const abar = tables.alphasCumprod[last];
  const logVar = Math.log(1 - abar);
  const a = Math.sqrt(abar);
  let sum = 0;
  for (let i = 0; i < x0.length; i++) sum += normalKl(a * x0[i], logVar, 0, 0);
  return sum / (x0.length * Math.LN2);
}
