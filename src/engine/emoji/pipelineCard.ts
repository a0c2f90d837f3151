// model_index.json (diffusers: which class each component is) and card.json (ours: where each
// component's config and weights are, with the weights' byte length and sha256), checked against
// each other: a pipeline whose index names a component the card lacks, or another class, fails
// here with the file and the component named.
import { ModelLoadError } from '../model/errors';
import type { WeightsRecord } from './safetensors';
import { TEXT_ENCODER_CLASS, TOKENIZER_CLASS, UNET_CLASS, VAE_CLASS } from './config';

export const PIPELINE_CLASS = 'EmojiLatentDiffusionPipeline';
export const PIPELINE_CARD_FORMAT = 'diffusion-playground/pipeline-card@1';

/** The components this pipeline needs, with the class each must be. */
export const COMPONENT_CLASSES = {
  unet: UNET_CLASS,
  text_encoder: TEXT_ENCODER_CLASS,
  tokenizer: TOKENIZER_CLASS,
  vae: VAE_CLASS,
  scheduler: null, // any diffusers scheduler class: its config only supplies the training schedule
} as const;

export type ComponentName = keyof typeof COMPONENT_CLASSES;

export interface ComponentRecord {
  class_name: string;
  config: string;
  weights?: WeightsRecord & { dtype?: string };
  /** tokenizer only */
  vocab?: string;
}

/** card.json of a pipeline (training/emoji/export_pipeline.py); the fields the browser reads. */
export interface PipelineCard {
  format: string;
  id: string;
  name: string;
  pipeline: string;
  components: Record<ComponentName, ComponentRecord>;
  prediction_type: 'epsilon' | 'v_prediction';
  sample_space?: Record<string, unknown>;
  conditioning?: Record<string, unknown>;
  quality?: unknown;
  training?: Record<string, unknown>;
  attribution_text?: string;
  [key: string]: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const NAMES = Object.keys(COMPONENT_CLASSES) as ComponentName[];
const WEIGHTED: ComponentName[] = ['unet', 'text_encoder', 'vae'];

/** model_index.json: every component named, each of the class this port runs. */
export function checkModelIndex(json: unknown, file: string): void {
  const fail = (problem: string): never => {
    throw new ModelLoadError(file, problem);
  };
  if (!isRecord(json)) return fail('not a JSON object');
  if (json._class_name !== PIPELINE_CLASS) {
    fail(`_class_name is ${JSON.stringify(json._class_name)}; this port runs "${PIPELINE_CLASS}"`);
  }
  for (const name of NAMES) {
    const entry = json[name];
    if (entry === undefined || entry === null) {
      fail(`names no "${name}" component (the pipeline needs ${NAMES.join(', ')})`);
    }
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[1] !== 'string') {
      fail(`"${name}" must be [library, class name], got ${JSON.stringify(entry)}`);
    }
    const want = COMPONENT_CLASSES[name];
    const got = (entry as string[])[1];
    if (want !== null && got !== want) {
      fail(`"${name}" is ${JSON.stringify(got)}; this port runs "${want}"`);
    }
  }
}

/** card.json: format, a record per component (matching the index's classes), checksums. */
export function parsePipelineCard(json: unknown, file: string, index?: unknown): PipelineCard {
  const fail = (problem: string): never => {
    throw new ModelLoadError(file, problem);
  };
  if (!isRecord(json)) return fail('not a JSON object');
  if (json.format !== PIPELINE_CARD_FORMAT) {
    fail(`unknown card format ${JSON.stringify(json.format)} (expected "${PIPELINE_CARD_FORMAT}")`);
  }
  if (typeof json.id !== 'string' || json.id === '') fail('id must be a name');
  const components = json.components;
  if (!isRecord(components)) return fail('missing "components" object');
  for (const name of NAMES) {
    const c = components[name];
    if (!isRecord(c)) return fail(`components.${name} is missing (model_index.json names it)`);
    if (typeof c.class_name !== 'string') fail(`components.${name}.class_name must be a name`);
    const indexed = isRecord(index) && Array.isArray(index[name]) ? index[name][1] : undefined;
    if (indexed !== undefined && c.class_name !== indexed) {
      fail(
        `components.${name}.class_name is ${JSON.stringify(c.class_name)} but model_index.json ` +
          `says ${JSON.stringify(indexed)}`,
      );
    }
    if (typeof c.config !== 'string' || c.config === '')
      fail(`components.${name}.config must be a path`);
    if (WEIGHTED.includes(name)) {
      const w = c.weights;
      if (!isRecord(w)) return fail(`components.${name}.weights is missing`);
      if (typeof w.file !== 'string' || !w.file.endsWith('.safetensors')) {
        fail(`components.${name}.weights.file must name a .safetensors file`);
      }
      if (typeof w.byte_length !== 'number' || !Number.isSafeInteger(w.byte_length)) {
        fail(`components.${name}.weights.byte_length must be a whole number`);
      }
      if (typeof w.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(w.sha256)) {
        fail(`components.${name}.weights.sha256 must be 64 lowercase hex digits`);
      }
    }
  }
  if (typeof (components.tokenizer as Record<string, unknown>).vocab !== 'string') {
    fail('components.tokenizer.vocab must be a path');
  }
  const prediction = json.prediction_type;
  if (prediction !== 'v_prediction' && prediction !== 'epsilon') {
    fail(`prediction_type ${JSON.stringify(prediction)} is not v_prediction or epsilon`);
  }
  return json as unknown as PipelineCard;
}
