// The settings a comparison or an X/Y grid can vary, as AUTOMATIC1111's X/Y plot offers them:
// each parses the text a person types ("Euler, DDIM" or "1, 3, 7.5"), checks it against the
// ranges the run controls allow, and applies one value to a copy of the controls. Pure data.
import type { SigmaSchedule } from '../engine/run/settings';
import { SAMPLER_PRESETS } from '../engine/samplerPresets';
import {
  MAX_GUIDANCE,
  MAX_SEED,
  MAX_STEPS,
  SIGMA_SCHEDULES,
  SPACING_CHOICES,
  type RunControls,
  type SpacingChoice,
} from '../runControls';

export type AxisKey =
  'sampler' | 'steps' | 'guidanceScale' | 'seed' | 'sigmaSchedule' | 'spacing' | 'eta';

export type AxisValue = string | number;

export interface AxisSetting {
  key: AxisKey;
  /** As the run controls label it. */
  label: string;
  /** The allowed values of a menu setting; numbers have none. */
  choices: readonly string[] | null;
  /** Numbers: the allowed range and whether only whole numbers are allowed. */
  range: { min: number; max: number; integer: boolean } | null;
  apply(controls: RunControls, value: AxisValue): RunControls;
}

const choice = (
  key: AxisKey,
  label: string,
  choices: readonly string[],
  apply: (c: RunControls, v: string) => RunControls,
): AxisSetting => ({ key, label, choices, range: null, apply: (c, v) => apply(c, String(v)) });

const number = (
  key: AxisKey,
  label: string,
  range: { min: number; max: number; integer: boolean },
  apply: (c: RunControls, v: number) => RunControls,
): AxisSetting => ({ key, label, choices: null, range, apply: (c, v) => apply(c, Number(v)) });

export const AXIS_SETTINGS: readonly AxisSetting[] = [
  choice(
    'sampler',
    'Sampler',
    SAMPLER_PRESETS.map((p) => p.name),
    (c, sampler) => ({ ...c, sampler }),
  ),
  number('steps', 'Steps', { min: 1, max: MAX_STEPS, integer: true }, (c, steps) => ({
    ...c,
    steps,
  })),
  number(
    'guidanceScale',
    'Guidance scale',
    { min: 0, max: MAX_GUIDANCE, integer: false },
    (c, guidanceScale) => ({ ...c, guidanceScale }),
  ),
  number('seed', 'Seed', { min: 0, max: MAX_SEED, integer: true }, (c, seed) => ({ ...c, seed })),
  choice('sigmaSchedule', 'Schedule', SIGMA_SCHEDULES, (c, v) => ({
    ...c,
    sigmaSchedule: v as SigmaSchedule,
  })),
  choice('spacing', 'Spacing', SPACING_CHOICES, (c, v) => ({ ...c, spacing: v as SpacingChoice })),
  number('eta', 'Eta', { min: 0, max: 1, integer: false }, (c, eta) => ({ ...c, eta })),
];

export function axisSetting(key: AxisKey): AxisSetting {
  const found = AXIS_SETTINGS.find((s) => s.key === key);
  if (!found) throw new Error(`no axis setting ${key}`);
  return found;
}

export type ParsedValue = { ok: true; value: AxisValue } | { ok: false; problem: string };

/** One typed value: a menu entry (any case) or a number in range. */
export function parseAxisValue(setting: AxisSetting, text: string): ParsedValue {
  const raw = text.trim();
  if (raw === '') return { ok: false, problem: `${setting.label}: a value is empty` };
  if (setting.choices) {
    const found = setting.choices.find((c) => c.toLowerCase() === raw.toLowerCase());
    if (found !== undefined) return { ok: true, value: found };
    return {
      ok: false,
      problem: `${setting.label}: "${raw}" is not one of ${setting.choices.join(', ')}`,
    };
  }
  const { min, max, integer } = setting.range!;
  const value = Number(raw);
  if (!Number.isFinite(value)) {
    return { ok: false, problem: `${setting.label}: "${raw}" is not a number` };
  }
  if (integer && !Number.isInteger(value)) {
    return { ok: false, problem: `${setting.label}: "${raw}" is not a whole number` };
  }
  if (value < min || value > max) {
    return { ok: false, problem: `${setting.label}: ${raw} is outside ${min} to ${max}` };
  }
  return { ok: true, value };
}

export type ParsedList = { ok: true; values: AxisValue[] } | { ok: false; problem: string };

/** A comma-separated list of values ("Euler, DDIM"); at most `maxValues` of them. */
export function parseAxisList(setting: AxisSetting, text: string, maxValues: number): ParsedList {
  const parts = text.split(',');
  if (text.trim() === '') return { ok: false, problem: `${setting.label}: no values given` };
  if (parts.length > maxValues) {
    return {
      ok: false,
      problem: `${setting.label}: ${parts.length} values; at most ${maxValues} per axis`,
    };
  }
  const values: AxisValue[] = [];
  for (const part of parts) {
    const parsed = parseAxisValue(setting, part);
    if (!parsed.ok) return parsed;
    values.push(parsed.value);
  }
  return { ok: true, values };
}

/** The value as a label: "Guidance scale 7.5", "Sampler DDIM". */
export function axisLabel(setting: AxisSetting, value: AxisValue): string {
  return `${setting.label} ${value}`;
}

/** Two values to start from when a setting is picked: a comparison that shows a difference. */
export const DEFAULT_AXIS_VALUES: Record<AxisKey, readonly string[]> = {
  sampler: ['Euler', 'DDIM', 'DPM++ 2M'],
  steps: ['10', '20', '40'],
  guidanceScale: ['1', '3', '7'],
  seed: ['42', '43', '44'],
  sigmaSchedule: ['default', 'karras', 'exponential'],
  spacing: ['linspace', 'leading', 'trailing'],
  eta: ['0', '0.5', '1'],
};
