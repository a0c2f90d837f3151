// The exported toy model: one JSON file holding the configuration, the normalisation that maps
// the model's space onto the drawing, the x_0 clip range, the training points and the weights
// (float32, base64). Parsing checks every field and names the first problem it finds.
import type { Normalization, Points } from './datasets';
import {
  TOY_BETA_SCHEDULES,
  TOY_PREDICTIONS,
  configProblems,
  type ToyModelConfig,
  type ToyTrainConfig,
} from './toyConfig';
import { parameterSpecs, type ParameterSpec } from './toyDenoiser';

export const TOY_MODEL_FORMAT = 'diffusion-playground/toy-model';
export const TOY_MODEL_VERSION = 1;
/** Large enough for any model the limits allow, small enough to refuse a wrong file quickly. */
export const MAX_TOY_MODEL_BYTES = 64 * 1024 * 1024;

export interface ToyModelFile {
  model: ToyModelConfig;
  train: ToyTrainConfig;
  step: number;
  normalization: Normalization;
  clipX0: number;
  /** The training data in data space. */
  points: Points;
  weights: Float32Array[];
  /** The moving average of the weights, which sampling uses. */
  averagedWeights: Float32Array[];
}

function toBase64(values: Float32Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string, what: string): Float32Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new Error(`${what} is not valid base64`);
  }
  if (binary.length % 4 !== 0)
    throw new Error(`${what} has ${binary.length} bytes, not a whole number of float32s`);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

export function serializeToyModel(file: ToyModelFile): string {
  const specs = parameterSpecs(file.model);
  return JSON.stringify({
    format: TOY_MODEL_FORMAT,
    version: TOY_MODEL_VERSION,
    model: file.model,
    train: file.train,
    step: file.step,
    normalization: file.normalization,
    clipX0: file.clipX0,
    points: toBase64(file.points),
    weights: specs.map((spec, i) => ({
      name: spec.name,
      shape: spec.shape,
      data: toBase64(file.weights[i]),
    })),
    averagedWeights: specs.map((spec, i) => ({
      name: spec.name,
      shape: spec.shape,
      data: toBase64(file.averagedWeights[i]),
    })),
  });
}

function parseWeights(list: unknown, specs: ParameterSpec[], what: string): Float32Array[] {
  if (!Array.isArray(list) || list.length !== specs.length) {
    throw new Error(`expected ${specs.length} ${what} tensors for this configuration`);
  }
  return specs.map((spec, i) => {
    const entry = (list as unknown[])[i];
    if (!isObject(entry) || entry.name !== spec.name || typeof entry.data !== 'string') {
      throw new Error(`${what} ${i} should be '${spec.name}'`);
    }
    const values = fromBase64(entry.data, spec.name);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (values.length !== size) {
      throw new Error(
        `${what} '${spec.name}' has ${values.length} values, expected ${size} (shape ${spec.shape.join('x')})`,
      );
    }
    if (!values.every(Number.isFinite)) {
      throw new Error(`${what} '${spec.name}' holds NaN or infinite values`);
    }
    return values;
  });
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function parseToyModel(text: string): ToyModelFile {
  if (text.length > MAX_TOY_MODEL_BYTES) throw new Error('the file is too large to be a toy model');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`the file is not JSON (${(err as Error).message})`, { cause: err });
  }
  if (!isObject(raw) || raw.format !== TOY_MODEL_FORMAT) {
    throw new Error(`the file is not a toy model (expected format '${TOY_MODEL_FORMAT}')`);
  }
  if (raw.version !== TOY_MODEL_VERSION)
    throw new Error(`unsupported toy model version ${String(raw.version)}`);
  const m = raw.model;
  const t = raw.train;
  if (!isObject(m) || !isObject(t)) throw new Error('the file lacks its model or train settings');
  const model: ToyModelConfig = {
    numTrainTimesteps: Number(m.numTrainTimesteps),
    betaSchedule: m.betaSchedule as ToyModelConfig['betaSchedule'],
    prediction: m.prediction as ToyModelConfig['prediction'],
    width: Number(m.width),
    depth: Number(m.depth),
    embeddingSize: Number(m.embeddingSize),
  };
  const train: ToyTrainConfig = {
    learningRate: Number(t.learningRate),
    batchSize: Number(t.batchSize),
    seed: Number(t.seed),
    emaDecay: Number(t.emaDecay),
  };
  if (!(TOY_BETA_SCHEDULES as readonly unknown[]).includes(model.betaSchedule)) {
    throw new Error(`unknown beta schedule '${String(m.betaSchedule)}'`);
  }
  if (!(TOY_PREDICTIONS as readonly unknown[]).includes(model.prediction)) {
    throw new Error(`unknown prediction target '${String(m.prediction)}'`);
  }
  const problems = configProblems(model, train);
  if (problems.length > 0) throw new Error(problems[0]);
  const norm = raw.normalization;
  if (
    !isObject(norm) ||
    !Array.isArray(norm.mean) ||
    !norm.mean.every(isNumber) ||
    norm.mean.length !== 2
  ) {
    throw new Error('the normalization is missing or malformed');
  }
  if (!isNumber(norm.scale) || norm.scale <= 0)
    throw new Error('the normalization scale must be a positive number');
  if (!isNumber(raw.clipX0) || raw.clipX0 <= 0) throw new Error('clipX0 must be a positive number');
  if (!isNumber(raw.step) || raw.step < 0) throw new Error('step must be a non-negative number');
  if (typeof raw.points !== 'string') throw new Error('the training points are missing');
  const points = fromBase64(raw.points, 'points');
  if (points.length < 2 || points.length % 2 !== 0 || !points.every(Number.isFinite)) {
    throw new Error('the training points are malformed (need x, y pairs of finite numbers)');
  }
  const specs = parameterSpecs(model);
  const weights = parseWeights(raw.weights, specs, 'weight');
  const averagedWeights = parseWeights(raw.averagedWeights, specs, 'averaged weight');
  return {
    model,
    train,
    step: raw.step,
    normalization: { mean: [norm.mean[0] as number, norm.mean[1] as number], scale: norm.scale },
    clipX0: raw.clipX0,
    points,
    weights,
    averagedWeights,
  };
}
