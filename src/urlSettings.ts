// Settings read from the page URL. Anything odd is ignored with a message, never a crash.
import { isBackendName, type BackendName } from './engine/backendNames';
import { MAX_JUMP_LENGTH, MAX_RESAMPLE_COUNT, type SigmaSchedule } from './engine/run/settings';
import { SAMPLER_PRESETS, findSamplerPreset } from './engine/samplerPresets';
import { MAX_URL_CANVAS_SIDE, parseCanvasSize, parseOffset } from './state/outpaintUrl';
import {
  BATCH_SIZES,
  MAX_CLASSIFIER_GUIDANCE_CONTROL,
  MAX_GUIDANCE,
  MAX_LANGEVIN_STEPS,
  MAX_PROMPT_CHARS,
  MAX_SEED,
  MAX_STEPS,
  SIGMA_SCHEDULES,
  SPACING_CHOICES,
  usesEta,
  type BatchSize,
  type RunControls,
  type SpacingChoice,
} from './runControls';

export interface UrlSettings {
  backend: BackendName | null;
  /** Model id as written; checked against public/models/index.json once that has loaded. */
  model: string | null;
  /** Class id as written; checked against the model's labels once the model has loaded. */
  classId: number | null;
  /** Run controls the URL set validly. */
  controls: Partial<Omit<RunControls, 'modelId' | 'classId'>>;
  warnings: string[];
  /** Outpainting's canvas size and the known image's place on it (src/state/outpaintUrl.ts). */
  canvas?: { width: number; height: number };
  offset?: { x: number; y: number };
}

const shown = (raw: string) => (raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);

/** A whole number in [min, max], or null. */
function wholeNumber(raw: string, min: number, max: number): number | null {
  if (!/^\s*\d+\s*$/.test(raw)) return null;
  const value = Number(raw);
  return value >= min && value <= max ? value : null;
}

function decimal(raw: string, min: number, max: number): number | null {
  if (!/^\s*\d+(\.\d+)?\s*$/.test(raw)) return null;
  const value = Number(raw);
  return value >= min && value <= max ? value : null;
}

export function readUrlSettings(search: string): UrlSettings {
  const params = new URLSearchParams(search);
  const warnings: string[] = [];
  const out: UrlSettings = { backend: null, model: null, classId: null, controls: {}, warnings };
  /** Keys this page understands: the ones read below, and debug=1 (src/debugHooks.ts). */
  const known = new Set<string>(['debug']);

  /** The first value of a key (a repeated key is reported). */
  const get = (key: string): string | null => {
    known.add(key);
    const all = params.getAll(key);
    if (all.length > 1) {
      warnings.push(
        `${key} appears ${all.length} times in the URL: using the first, "${shown(all[0])}".`,
      );
    }
    return all[0] ?? null;
  };

  /** Reads one parameter; a value `parse` refuses is reported with `expected`. */
  const read = <T>(key: string, parse: (raw: string) => T | null, expected: string): T | null => {
    const raw = get(key);
    if (raw === null) return null;
    const value = parse(raw);
    if (value === null) warnings.push(`Ignored ${key}="${shown(raw)}" in the URL: ${expected}.`);
    return value;
  };

  const backend = read(
    'backend',
    (raw) => {
      const value = raw.trim().toLowerCase();
      return isBackendName(value) ? value : null;
    },
    'use webgpu, webgl, wasm or cpu. Choosing automatically',
  );
  out.backend = backend;

  const model = get('model');
  if (model !== null) out.model = model.trim();
  out.classId = read('class', (raw) => wholeNumber(raw, 0, 1000), 'use a class number');

  const c = out.controls;
  const sampler = read(
    'sampler',
    (raw) => findSamplerPreset(raw.trim())?.name ?? null,
    `use one of ${SAMPLER_PRESETS.map((p) => p.name).join(', ')}`,
  );
  if (sampler !== null) c.sampler = sampler;
  const steps = read('steps', (raw) => wholeNumber(raw, 1, MAX_STEPS), `use 1 to ${MAX_STEPS}`);
  if (steps !== null) c.steps = steps;
  const guidance = read(
    'guidance',
    (raw) => decimal(raw, 0, MAX_GUIDANCE),
    `use a number from 0 to ${MAX_GUIDANCE}`,
  );
  if (guidance !== null) c.guidanceScale = guidance;
  const eta = read('eta', (raw) => decimal(raw, 0, 1), 'use a number from 0 to 1');
  if (eta !== null) c.eta = eta;
  const seed = read('seed', (raw) => wholeNumber(raw, 0, MAX_SEED), `use 0 to ${MAX_SEED}`);
  if (seed !== null) c.seed = seed;
  const batch = read(
    'batch',
    (raw) => {
      const value = wholeNumber(raw, 1, 16);
      return BATCH_SIZES.find((b) => b === value) ?? null;
    },
    `use ${BATCH_SIZES.join(', ')}`,
  );
  if (batch !== null) c.batchSize = batch as BatchSize;
  const schedule = read(
    'schedule',
    (raw) => SIGMA_SCHEDULES.find((s) => s === raw.trim()) ?? null,
    `use ${SIGMA_SCHEDULES.join(', ')}`,
  );
  if (schedule !== null) c.sigmaSchedule = schedule as SigmaSchedule;
  const spacing = read(
    'spacing',
    (raw) => SPACING_CHOICES.find((s) => s === raw.trim()) ?? null,
    `use ${SPACING_CHOICES.join(', ')}`,
  );
  if (spacing !== null) c.spacing = spacing as SpacingChoice;
  const resample = read(
    'resample',
    (raw) => wholeNumber(raw, 1, MAX_RESAMPLE_COUNT),
    `use 1 (off) to ${MAX_RESAMPLE_COUNT}`,
  );
  if (resample !== null) c.resampleCount = resample;
  const jump = read(
    'jump',
    (raw) => wholeNumber(raw, 1, MAX_JUMP_LENGTH),
    `use 1 to ${MAX_JUMP_LENGTH}`,
  );
  if (jump !== null) c.jumpLength = jump;
  const classifierGuidance = read(
    'cg',
    (raw) => decimal(raw, 0, MAX_CLASSIFIER_GUIDANCE_CONTROL),
    `use a number from 0 to ${MAX_CLASSIFIER_GUIDANCE_CONTROL}`,
  );
  if (classifierGuidance !== null) c.classifierGuidanceScale = classifierGuidance;
  const langevin = read(
    'langevin',
    (raw) => wholeNumber(raw, 0, MAX_LANGEVIN_STEPS),
    `use 0 (off) to ${MAX_LANGEVIN_STEPS}`,
  );
  if (langevin !== null) c.langevinSteps = langevin;
  const snr = read(
    'snr',
    (raw) => {
      const value = decimal(raw, 0, 1);
      return value !== null && value > 0 ? value : null;
    },
    'use a number above 0 and at most 1',
  );
  if (snr !== null) c.langevinSnr = snr;
  // Any text is a prompt (the tokenizer says which words it knows); only the length is limited.
  const promptText = (key: string): string | null => {
    const raw = get(key);
    if (raw === null) return null;
    if (raw.length <= MAX_PROMPT_CHARS) return raw;
    warnings.push(`The ${key} in the URL was cut to its first ${MAX_PROMPT_CHARS} characters.`);
    return raw.slice(0, MAX_PROMPT_CHARS);
  };
  const prompt = promptText('prompt');
  if (prompt !== null) c.prompt = prompt;
  const negative = promptText('negative');
  if (negative !== null) c.negativePrompt = negative;
  const canvas = read(
    'canvas',
    parseCanvasSize,
    `use width x height, e.g. 56x28, each 1 to ${MAX_URL_CANVAS_SIDE}`,
  );
  if (canvas !== null) out.canvas = canvas;
  const offset = read('offset', parseOffset, 'use x,y in pixels, e.g. 28,0');
  if (offset !== null) out.offset = offset;

  const unknown = [...new Set(params.keys())].filter((key) => !known.has(key));
  if (unknown.length > 0) {
    const listed = unknown.slice(0, 5).map((key) => `"${shown(key)}"`);
    if (unknown.length > 5) listed.push(`and ${unknown.length - 5} more`);
    warnings.push(
      `Ignored unknown URL parameter${unknown.length > 1 ? 's' : ''} ${listed.join(', ')}.`,
    );
  }
  return out;
}

/**
 * The URL of the page with these controls in its query (other parameters kept). `textModel`:
 * the model reads a prompt (then the prompt is in the link, and the class is not).
 */
export function urlWithControls(href: string, controls: RunControls, textModel = false): string {
  const url = new URL(href);
  const set = (key: string, value: string | number | null) => {
    if (value === null) url.searchParams.delete(key);
    else url.searchParams.set(key, String(value));
  };
  set('model', controls.modelId);
  set('class', textModel ? null : controls.classId);
  set('sampler', controls.sampler);
  set('steps', controls.steps);
  set('guidance', controls.guidanceScale);
  set('seed', controls.seed);
  set('batch', controls.batchSize);
  set('schedule', controls.sigmaSchedule);
  set('spacing', controls.spacing);
  set('eta', usesEta(controls.sampler) ? controls.eta : null);
  // RePaint's resampling only when it is on (it only acts while inpainting).
  const resampling = controls.resampleCount > 1;
  set('resample', resampling ? controls.resampleCount : null);
  set('jump', resampling ? controls.jumpLength : null);
  // The theory knobs only when they are on, so everyday links stay short.
  set('cg', controls.classifierGuidanceScale > 0 ? controls.classifierGuidanceScale : null);
  const langevinOn = controls.langevinSteps > 0;
  set('langevin', langevinOn ? controls.langevinSteps : null);
  set('snr', langevinOn ? controls.langevinSnr : null);
  // A text model's link always has its prompt; the negative prompt only when there is one.
  set('prompt', textModel ? controls.prompt : null);
  set('negative', textModel && controls.negativePrompt !== '' ? controls.negativePrompt : null);
  return url.href;
}
