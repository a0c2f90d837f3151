// LMSDiscreteScheduler: linear multistep (Adams–Bashforth on a non-uniform sigma grid, k-diffusion's
// sample_lms), ported from diffusers' scheduling_lms_discrete.py. The weights are integrals of the
// Lagrange basis polynomials through the last `order` sigmas over the step [sigma_i, sigma_{i+1}],
// which diffusers evaluates with scipy.integrate.quad; see quadGaussKronrod21 below.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { f32 } from '../schedule/numpy';
import {
  SigmaScheduler,
  convertSigmas,
  interpolateSigmas,
  logF32,
  sigmaConversionOf,
  spacedTimesteps,
  timestepsForSigmas,
  trainingSigmas,
  x0FromEpsilon,
  x0FromVPrediction,
  type SigmaConversionConfig,
  type SigmaSchedulerConfig,
} from './sigmaSchedule';
import type { StepOptions, StepResult } from './types';

export type LMSDiscreteConfig = SigmaSchedulerConfig & SigmaConversionConfig;

export const LMS_DISCRETE_DEFAULTS: LMSDiscreteConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  prediction_type: 'epsilon',
  timestep_spacing: 'linspace',
  steps_offset: 0,
};

// QUADPACK's 21-point Gauss–Kronrod rule (dqk21): Kronrod nodes (odd entries are the 10-point Gauss
// nodes) and weights, from the outermost node inwards; the centre node 0 comes last. QUADPACK's
// 33-digit constants, written as the doubles they round to.
const XGK = [
  0.9956571630258081, 0.9739065285171717, 0.9301574913557082, 0.8650633666889845,
  0.7808177265864169, 0.6794095682990244, 0.5627571346686047, 0.4333953941292472,
  0.2943928627014602, 0.14887433898163122, 0,
];
const WGK = [
  0.011694638867371874, 0.032558162307964725, 0.054755896574351995, 0.07503967481091996,
  0.0931254545836976, 0.10938715880229764, 0.12349197626206584, 0.13470921731147334,
  0.14277593857706009, 0.14773910490133849, 0.1494455540029169,
];
const WG = [
  0.06667134430868814, 0.1494513491505806, 0.21908636251598204, 0.26926671930999635,
  0.29552422471475287,
];
const EPMACH = Number.EPSILON;
const UFLOW = Number.MIN_VALUE * 2 ** 52; // d1mach(1), the smallest normal double

/** One application of dqk21: the Kronrod estimate of ∫_a^b f and QUADPACK's error estimate. */
function gaussKronrod21(f: (x: number) => number, a: number, b: number) {
  const centr = 0.5 * (a + b);
  const hlgth = 0.5 * (b - a);
  const dhlgth = Math.abs(hlgth);
  const fc = f(centr);
  let resg = 0;
  let resk = WGK[10] * fc;
  let resabs = Math.abs(resk);
  const fv1: number[] = [];
  const fv2: number[] = [];
  // Gauss nodes first (jtw = 1, 3, ..., 9 zero-based), then the Kronrod extension nodes.
  for (let j = 0; j < 5; j++) {
    const jtw = 2 * j + 1;
    const absc = hlgth * XGK[jtw];
    const fval1 = f(centr - absc);
    const fval2 = f(centr + absc);
    fv1[jtw] = fval1;
    fv2[jtw] = fval2;
    const fsum = fval1 + fval2;
    resg += WG[j] * fsum;
    resk += WGK[jtw] * fsum;
    resabs += WGK[jtw] * (Math.abs(fval1) + Math.abs(fval2));
  }
  for (let j = 0; j < 5; j++) {
    const jtwm1 = 2 * j;
    const absc = hlgth * XGK[jtwm1];
    const fval1 = f(centr - absc);
    const fval2 = f(centr + absc);
    fv1[jtwm1] = fval1;
    fv2[jtwm1] = fval2;
    const fsum = fval1 + fval2;
    resk += WGK[jtwm1] * fsum;
    resabs += WGK[jtwm1] * (Math.abs(fval1) + Math.abs(fval2));
  }
  const reskh = resk * 0.5;
  let resasc = WGK[10] * Math.abs(fc - reskh);
  for (let j = 0; j < 10; j++) {
    resasc += WGK[j] * (Math.abs(fv1[j] - reskh) + Math.abs(fv2[j] - reskh));
  }
  const result = resk * hlgth;
  resabs *= dhlgth;
  resasc *= dhlgth;
  let abserr = Math.abs((resk - resg) * hlgth);
  if (resasc !== 0 && abserr !== 0) abserr = resasc * Math.min(1, ((200 * abserr) / resasc) ** 1.5);
  if (resabs > UFLOW / (50 * EPMACH)) abserr = Math.max(EPMACH * 50 * resabs, abserr);
  return { result, abserr, resabs, resasc };
}

/**
 * ∫_a^b f as scipy.integrate.quad(f, a, b, epsrel) computes it for the integrands here. quad runs
 * QUADPACK's dqagse, which starts with one 21-point Gauss–Kronrod pass and stops there when the
 * error estimate is within tolerance. That rule is exact for polynomials of degree <= 31, so for the
 * LMS integrand (degree < order) the first pass is always accepted and this reproduces scipy's
 * number. Should a pass not be accepted, we bisect adaptively (a simpler strategy than dqagse's
 * extrapolation, never reached for polynomials).
 */
export function quadGaussKronrod21(
  f: (x: number) => number,
  a: number,
  b: number,
  epsrel = 1.49e-8,
  epsabs = 1.49e-8,
  depth = 0,
): number {
  const { result, abserr, resabs, resasc } = gaussKronrod21(f, a, b);
  const errbnd = Math.max(epsabs, epsrel * Math.abs(result));
  const accepted = (abserr <= errbnd && abserr !== resasc) || abserr === 0;
  // dqagse also stops (ier = 2) when roundoff keeps the error estimate from getting smaller.
  const roundoffLimited = abserr <= 100 * EPMACH * resabs && abserr > errbnd;
  if (accepted || roundoffLimited || depth >= 50) return result;
  const mid = 0.5 * (a + b);
  return (
    quadGaussKronrod21(f, a, mid, epsrel, epsabs / 2, depth + 1) +
    quadGaussKronrod21(f, mid, b, epsrel, epsabs / 2, depth + 1)
  );
}

export class LMSDiscreteScheduler extends SigmaScheduler<LMSDiscreteConfig> {
  readonly order = 1;
  /** ODE derivatives of the last steps, oldest first (diffusers' self.derivatives). */
  private derivatives: Tensor[] = [];

  constructor(config?: Record<string, unknown>) {
    super('LMSDiscreteScheduler', LMS_DISCRETE_DEFAULTS, config, [
      'linear',
      'scaled_linear',
      'squaredcos_cap_v2',
    ]);
    sigmaConversionOf(this.config);
    this.setTimesteps(this.config.num_train_timesteps);
  }

  setTimesteps(numInferenceSteps: number): void {
    const cfg = this.config;
    this.numInferenceSteps = numInferenceSteps;
    const conversion = sigmaConversionOf(cfg);
    let timesteps = spacedTimesteps(
      cfg.timestep_spacing,
      cfg.num_train_timesteps,
      numInferenceSteps,
      cfg.steps_offset,
    );
    const trainSigmas = trainingSigmas(this.alphasCumprod);
    let sigmas = interpolateSigmas(timesteps, trainSigmas);
    if (conversion) {
      sigmas = convertSigmas(conversion, sigmas, numInferenceSteps);
      timesteps = timestepsForSigmas(sigmas, logF32(trainSigmas));
    }
    this.sigmas = Float32Array.from([...sigmas, 0]);
    this.timesteps = Float32Array.from(timesteps);
    this.resetPosition();
    this.clearHistory();
  }

  /**
   * diffusers' get_lms_coefficient: ∫ over [sigma_t, sigma_{t+1}] of the Lagrange basis polynomial
   * that is 1 at sigma_{t - currentOrder} and 0 at the other of the last `order` sigmas. diffusers
   * evaluates the integrand on float32 torch scalars, so every operation here rounds to float32.
   */
  lmsCoefficient(order: number, t: number, currentOrder: number): number {
    const s = this.sigmas;
    const lmsDerivative = (tau: number): number => {
      const tau32 = f32(tau);
      let prod = 1;
      for (let k = 0; k < order; k++) {
        if (k === currentOrder) continue;
        prod = f32(prod * f32(f32(tau32 - s[t - k]) / f32(s[t - currentOrder] - s[t - k])));
      }
      return prod;
    };
    return quadGaussKronrod21(lmsDerivative, s[t], s[t + 1], 1e-4);
  }

  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: StepOptions = {},
  ): StepResult {
    const maxOrder = options.order ?? 4;
    const i = this.ensureStepIndex(timestep);
    const sigma = this.sigmas[i];

    const result = tf.tidy(() => {
      let predOriginalSample: Tensor;
      const type = this.config.prediction_type;
      if (type === 'epsilon') predOriginalSample = x0FromEpsilon(modelOutput, sample, sigma);
      else if (type === 'v_prediction') {
        predOriginalSample = x0FromVPrediction(modelOutput, sample, sigma);
      } else if (type === 'sample') predOriginalSample = modelOutput.clone();
      else {
        throw new Error(
          `prediction_type given as ${type} must be one of \`epsilon\`, or \`v_prediction\``,
        );
      }
      const derivative = sample.sub(predOriginalSample).div(sigma);
      this.derivatives.push(tf.keep(derivative));
      if (this.derivatives.length > maxOrder) this.derivatives.shift()?.dispose();

      // Newest derivative gets coefficient 0, the one before coefficient 1, ...
      const order = Math.min(i + 1, maxOrder);
      let sum: Tensor | null = null;
      for (let k = 0; k < order; k++) {
        const d = this.derivatives[this.derivatives.length - 1 - k];
        if (!d) break; // diffusers' zip() stops at the shorter list
        const term = d.mul(this.lmsCoefficient(order, i, k));
        sum = sum ? sum.add(term) : term;
      }
      const prevSample = sum ? sample.add(sum) : sample.clone();
      return { prevSample, predOriginalSample };
    });
    this.advance();
    return result;
  }

  protected override clearHistory(): void {
    for (const d of this.derivatives) d.dispose();
    this.derivatives = [];
  }
}
