import type { SigmaSchedule } from '../engine/run/settings';
import { SAMPLER_PRESETS } from '../engine/samplerPresets';
import { changeControls } from '../engineClient';
import {
  BATCH_SIZES,
  MAX_GUIDANCE,
  MAX_SEED,
  MAX_STEPS,
  SIGMA_SCHEDULES,
  SPACING_CHOICES,
  randomSeed,
  usesEta,
  type BatchSize,
  type SpacingChoice,
} from '../runControls';
import { useAppStore } from '../store';
import { ModelDownload } from './download/ModelDownload';
import { SelectField } from './Field';
import { NumberField } from './NumberField';
import { PromptFields } from './prompt/PromptFields';
import { SliderField } from './SliderField';

const SCHEDULE_LABELS: Record<SigmaSchedule, string> = {
  default: 'Default (the sampler’s own)',
  karras: 'Karras',
  exponential: 'Exponential',
};

/**
 * The run's main settings, in the order a person reaches for them: what to draw (model, class or
 * prompt), how hard to follow it and how long to take (guidance, steps), then how. During a run,
 * guidance, eta, class, sampler, steps, spacing and schedule apply from the next step on; seed,
 * batch size and model apply to the next run. The theory knobs (classifier guidance, Langevin)
 * live in their own panel beside the view.
 */
export function Controls() {
  const controls = useAppStore((s) => s.controls);
  const models = useAppStore((s) => s.models);
  const model = useAppStore((s) => s.model);

  return (
    <section className="controls run-controls" aria-label="Controls">
      <SelectField
        label="Model"
        value={controls.modelId ?? ''}
        onChange={(e) => changeControls({ modelId: e.target.value })}
      >
        {models.map((m) => (
          <option key={m.id} value={m.id}>
            {m.name}
          </option>
        ))}
      </SelectField>
      <ModelDownload />
      {model?.conditioning === 'text' ? (
        <PromptFields />
      ) : (
        <SelectField
          label="Class"
          value={controls.classId}
          disabled={!model}
          onChange={(e) => changeControls({ classId: Number(e.target.value) })}
        >
          {model?.classLabels.map((label, id) => (
            <option key={id} value={id}>
              {label}
            </option>
          ))}
          {model && <option value={model.nullClassId}>None (unconditional)</option>}
        </SelectField>
      )}
      <SliderField
        label="Guidance scale"
        value={controls.guidanceScale}
        min={0}
        max={MAX_GUIDANCE}
        step={0.5}
        onCommit={(guidanceScale) => changeControls({ guidanceScale })}
      />
      <SliderField
        label="Steps"
        value={controls.steps}
        min={1}
        max={MAX_STEPS}
        integer
        commitOnRelease
        onCommit={(steps) => changeControls({ steps })}
      />
      <SelectField
        label="Sampler"
        value={controls.sampler}
        onChange={(e) => changeControls({ sampler: e.target.value })}
      >
        {SAMPLER_PRESETS.map((p) => (
          <option key={p.name} value={p.name}>
            {p.name}
          </option>
        ))}
      </SelectField>
      {usesEta(controls.sampler) && (
        <NumberField
          label="Eta"
          value={controls.eta}
          min={0}
          max={1}
          step={0.1}
          onCommit={(eta) => changeControls({ eta })}
        />
      )}
      <div className="seed-field">
        <NumberField
          label="Seed"
          value={controls.seed}
          min={0}
          max={MAX_SEED}
          integer
          onCommit={(seed) => changeControls({ seed })}
        />
        <button type="button" onClick={() => changeControls({ seed: randomSeed() })}>
          Randomise seed
        </button>
      </div>
      <SelectField
        label="Batch size"
        value={controls.batchSize}
        onChange={(e) => changeControls({ batchSize: Number(e.target.value) as BatchSize })}
      >
        {BATCH_SIZES.map((b) => (
          <option key={b} value={b}>
            {b}
          </option>
        ))}
      </SelectField>
      <SelectField
        label="Schedule"
        value={controls.sigmaSchedule}
        onChange={(e) => changeControls({ sigmaSchedule: e.target.value as SigmaSchedule })}
      >
        {SIGMA_SCHEDULES.map((s) => (
          <option key={s} value={s}>
            {SCHEDULE_LABELS[s]}
          </option>
        ))}
      </SelectField>
      <SelectField
        label="Spacing"
        value={controls.spacing}
        onChange={(e) => changeControls({ spacing: e.target.value as SpacingChoice })}
      >
        {SPACING_CHOICES.map((s) => (
          <option key={s} value={s}>
            {s === 'default' ? 'Default (the model’s)' : s}
          </option>
        ))}
      </SelectField>
    </section>
  );
}
