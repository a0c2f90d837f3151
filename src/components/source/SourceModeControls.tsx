// What the source is used for: nothing, inpainting (regenerate under the mask, with RePaint's
// resampling settings) or img2img (start from the source noised to `strength`).
import { useId } from 'react';
import { useSourceStore, type SourceMode } from '../../state/sourceStore';
import { ResampleControls } from './ResampleControls';

const MODES: Array<{ mode: SourceMode; label: string }> = [
  { mode: 'none', label: 'None' },
  { mode: 'inpaint', label: 'Inpaint' },
  { mode: 'img2img', label: 'img2img' },
];

export function SourceModeControls() {
  const mode = useSourceStore((s) => s.mode);
  const strength = useSourceStore((s) => s.strength);
  const { setMode, setStrength } = useSourceStore.getState();
  const strengthId = useId();

  return (
    <div className="source-mode">
      <fieldset role="radiogroup" aria-label="Source mode">
        <legend>Source mode</legend>
        {MODES.map((m) => (
          <label key={m.mode} className="radio">
            <input
              type="radio"
              name="source-mode"
              value={m.mode}
              checked={mode === m.mode}
              onChange={() => setMode(m.mode)}
            />
            {m.label}
          </label>
        ))}
      </fieldset>
      <div
        className="field slider-field"
        title="0 returns the source unchanged, 1 ignores it (starts from pure noise)"
      >
        <label htmlFor={strengthId}>Strength</label>
        <div className="slider-row">
          <input
            id={strengthId}
            type="range"
            min={0}
            max={1}
            step={0.05}
            value={strength}
            disabled={mode !== 'img2img'}
            onChange={(e) => setStrength(Number(e.target.value))}
          />
          <output htmlFor={strengthId}>{strength.toFixed(2)}</output>
        </div>
      </div>
      <ResampleControls />
    </div>
  );
}
