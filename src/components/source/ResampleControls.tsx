// RePaint's resampling for inpainting (Lugmayr et al. 2022): how many times each jump point is
// passed (r) and how many steps a jump goes back (j). Run controls like Steps: a running
// inpainting run takes a change at its next step, and both live in the URL.
import { changeControls } from '../../engineClient';
import { MAX_JUMP_LENGTH, MAX_RESAMPLE_COUNT } from '../../engine/run/settings';
import { useAppStore } from '../../store';
import { useSourceStore } from '../../state/sourceStore';
import { NumberField } from '../NumberField';

/** What the two numbers do, in words. */
function describe(resampleCount: number, jumpLength: number): string {
  if (resampleCount <= 1) return 'Off: each step is taken once.';
  const every =
    jumpLength === 1
      ? 'After every step, go back 1'
      : `Every ${jumpLength} steps, go back ${jumpLength}`;
  const times = resampleCount === 2 ? '1 more time' : `${resampleCount - 1} more times`;
  return `${every} and denoise again, ${times}.`;
}

export function ResampleControls() {
  const inpainting = useSourceStore((s) => s.mode === 'inpaint');
  const resampleCount = useAppStore((s) => s.controls.resampleCount);
  const jumpLength = useAppStore((s) => s.controls.jumpLength);
  const steps = useAppStore((s) => s.controls.steps);

  return (
    <fieldset className="resample-controls" disabled={!inpainting}>
      <legend>RePaint resampling</legend>
      <span title="RePaint's r: each time the run reaches a jump point it noises the image back and denoises again, r − 1 times, so the new part blends in with the kept part. 1 = off; the model calls grow about r-fold.">
        <NumberField
          label="Resampling"
          value={resampleCount}
          min={1}
          max={MAX_RESAMPLE_COUNT}
          integer
          onCommit={(value) => changeControls({ resampleCount: value })}
        />
      </span>
      <span title="RePaint's j: how many steps each jump goes back (and how far apart the jump points are). At most the number of steps.">
        <NumberField
          label="Jump length"
          value={Math.min(jumpLength, steps)}
          min={1}
          max={Math.min(MAX_JUMP_LENGTH, steps)}
          integer
          onCommit={(value) => changeControls({ jumpLength: value })}
        />
      </span>
      <p className="hint">{describe(resampleCount, Math.min(jumpLength, steps))}</p>
    </fieldset>
  );
}
