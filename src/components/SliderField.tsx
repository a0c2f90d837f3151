// A slider with the exact number beside it (guidance, steps): drag for a feel, type for a value.
// Both controls are named by the one visible label. A run takes the value live, as the typed
// field always did; a slider whose every value re-plans the run (Steps) commits on release.
import { useId, useState } from 'react';
import { NumberInput } from './NumberField';

export function SliderField({
  label,
  value,
  min,
  max,
  step = 1,
  integer = false,
  disabled = false,
  commitOnRelease = false,
  title,
  onCommit,
}: {
  label: string;
  value: number;
  min: number;
  max: number;
  step?: number;
  integer?: boolean;
  disabled?: boolean;
  /** Commit when the pointer or key is released rather than on every value the drag passes. */
  commitOnRelease?: boolean;
  title?: string;
  onCommit(value: number): void;
}) {
  const labelId = useId();
  const inputId = useId();
  const [dragging, setDragging] = useState<number | null>(null);

  const commit = (next: number) => {
    setDragging(null);
    if (Number.isFinite(next) && next >= min && next <= max && next !== value) onCommit(next);
  };
  const release = () => {
    if (dragging !== null) commit(dragging);
  };

  return (
    <div className="field slider-field" title={title}>
      <label id={labelId} htmlFor={inputId}>
        {label}
      </label>
      <div className="slider-row">
        <input
          type="range"
          aria-labelledby={labelId}
          min={min}
          max={max}
          step={step}
          disabled={disabled}
          value={dragging ?? value}
          onChange={(e) => {
            const next = Number(e.target.value);
            if (commitOnRelease) setDragging(next);
            else commit(next);
          }}
          onPointerUp={release}
          onKeyUp={release}
          onBlur={release}
        />
        <NumberInput
          id={inputId}
          value={dragging ?? value}
          min={min}
          max={max}
          step={step}
          integer={integer}
          disabled={disabled}
          onCommit={commit}
        />
      </div>
    </div>
  );
}
