// Means over images with their standard errors (sample std / sqrt(n)): the spread between images
// and, for a stratified estimate, the timestep sampling noise together.
import type { ElboImageResult } from './elboEstimate';

export interface MeanWithError {
  mean: number;
  stderr: number;
}

export function meanWithError(values: readonly number[]): MeanWithError {
  const n = values.length;
  if (n === 0) return { mean: NaN, stderr: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, stderr: NaN };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, stderr: Math.sqrt(variance / n) };
}

export interface ElboSummary {
  count: number;
  bitsPerDim: MeanWithError;
  bitsPerDimLarge: MeanWithError;
  decoderBits: MeanWithError;
  priorBits: MeanWithError;
  klSumBits: MeanWithError;
  klSumBitsLarge: MeanWithError;
}

export function summarizeElbo(results: readonly ElboImageResult[]): ElboSummary {
  const of = (key: keyof Omit<ElboImageResult, 'terms'>) =>
    meanWithError(results.map((r) => r[key]));
  return {
    count: results.length,
    bitsPerDim: of('bitsPerDim'),
    bitsPerDimLarge: of('bitsPerDimLarge'),
    decoderBits: of('decoderBits'),
    priorBits: of('priorBits'),
    klSumBits: of('klSumBits'),
    klSumBitsLarge: of('klSumBitsLarge'),
  };
}
