export {
  approxStandardNormalCdf,
  discretizedGaussianLogLikelihood,
  normalKl,
  quantizeTo8Bit,
} from './gaussianTerms';
export { DEFAULT_ELBO_SETTINGS, ElboEstimate } from './elboEstimate';
export type { ElboImage, ElboImageResult, ElboSettings, ElboTerm } from './elboEstimate';
export { runInChunks } from './runInChunks';
export type { ChunkHooks } from './runInChunks';
export { meanWithError, summarizeElbo } from './summary';
export type { ElboSummary, MeanWithError } from './summary';
export { klTermCount, stratifiedTimesteps, stratumBounds } from './timestepStrata';
export type { WeightedTimestep } from './timestepStrata';
export { makeVbTables, vbTablesFromScheduler } from './vbTables';
export type { FixedVariance, VbTables } from './vbTables';
export { priorBits, vbTermBits } from './vbTerms';
export type { ElboPredictionType, TermBits } from './vbTerms';
export { computeElboReport, fixedVarianceOf } from './elboJob';
export type { ElboReport, ElboRequest } from './elboJob';
