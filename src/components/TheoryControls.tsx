// The knobs from the papers beyond classifier-free guidance: classifier guidance (Dhariwal &
// Nichol) with the model's noisy classifier, and Langevin steps with the model's score (Song et
// al.'s corrector; the Annealed Langevin sampler's steps per noise level). Live during a run.
import { changeControls } from '../engineClient';
import { MAX_CLASSIFIER_GUIDANCE_CONTROL, MAX_LANGEVIN_STEPS } from '../runControls';
import { ANNEALED_LANGEVIN } from '../engine/run/settings';
import { useAppStore } from '../store';
import { NumberField } from './NumberField';

function ClassifierGuidanceNote() {
  const classifier = useAppStore((s) => s.classifier);
  const scale = useAppStore((s) => s.controls.classifierGuidanceScale);
  if (!classifier) return <p className="hint">Loading the noisy classifier…</p>;
  if (!classifier.available) {
    return (
      <p className="hint" role="status">
        Classifier guidance is off for this model: {classifier.problem}
      </p>
    );
  }
  if (scale === 0) return null;
  return (
    <p className="hint">
      Each step also takes the gradient of the noisy classifier’s log p(class | x_t).
    </p>
  );
}

export function TheoryControls() {
  const controls = useAppStore((s) => s.controls);
  const classifier = useAppStore((s) => s.classifier);
  const annealed = controls.sampler === ANNEALED_LANGEVIN;
  return (
    <>
      <NumberField
        label="Classifier guidance"
        value={controls.classifierGuidanceScale}
        min={0}
        max={MAX_CLASSIFIER_GUIDANCE_CONTROL}
        step={0.5}
        disabled={!classifier?.available && controls.classifierGuidanceScale === 0}
        onCommit={(classifierGuidanceScale) => changeControls({ classifierGuidanceScale })}
      />
      <ClassifierGuidanceNote />
      <NumberField
        label="Langevin steps"
        value={controls.langevinSteps}
        min={0}
        max={MAX_LANGEVIN_STEPS}
        integer
        onCommit={(langevinSteps) => changeControls({ langevinSteps })}
      />
      <NumberField
        label="Langevin SNR"
        value={controls.langevinSnr}
        min={0.01}
        max={1}
        step={0.01}
        onCommit={(langevinSnr) => changeControls({ langevinSnr })}
      />
      <p className="hint" data-testid="langevin-hint">
        {annealed
          ? controls.langevinSteps > 0
            ? `Annealed Langevin: ${controls.langevinSteps} Langevin steps per noise level with the score −ε/σ, SNR ${controls.langevinSnr}.`
            : 'Annealed Langevin: 3 steps per noise level at SNR 0.5 (its defaults; set Langevin steps to choose).'
          : controls.langevinSteps > 0
            ? `Predictor-corrector: ${controls.langevinSteps} Langevin step(s) with the score −ε/σ after each step (one model call each).`
            : 'Langevin corrector off (0 steps).'}
      </p>
    </>
  );
}
