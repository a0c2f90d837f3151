import { useId, useState } from 'react';

/**
 * A number input that commits on Enter, on leaving the field, and on the arrow keys or spinner,
 * not on every keystroke: typing "15" into Steps must not re-plan a running run to 1 step first.
 * Values outside [min, max] or not numbers are not committed; the field shows the last good one.
 * The label sits beside the input (not around it), so the input's accessible name is the label.
 */
export function NumberField({
  label,
  value,
  min,
  max,
  step = 1,
  integer = false,
  disabled = false,
  onCommit,
}: {
  label: string;
  value: number;
  min: number;
  max: number;
  step?: number;
  integer?: boolean;
  disabled?: boolean;
  onCommit(value: number): void;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <NumberInput
        id={id}
        value={value}
        min={min}
        max={max}
        step={step}
        integer={integer}
        disabled={disabled}
        onCommit={onCommit}
      />
    </div>
  );
}

/** The bare input of a NumberField; the caller names it (an id for a <label>, or aria-label). */
export function NumberInput({
  id,
  value,
  min,
  max,
  step = 1,
  integer = false,
  disabled = false,
  labelledBy,
  onCommit,
}: {
  id?: string;
  value: number;
  min: number;
  max: number;
  step?: number;
  integer?: boolean;
  disabled?: boolean;
  labelledBy?: string;
  onCommit(value: number): void;
}) {
  const [draft, setDraft] = useState<string | null>(null);

  const commit = (text: string) => {
    setDraft(null);
    const parsed = Number(text);
    if (text.trim() === '' || !Number.isFinite(parsed)) return;
    const next = integer ? Math.round(parsed) : parsed;
    if (next >= min && next <= max && next !== value) onCommit(next);
  };

  return (
    <input
      id={id}
      type="number"
      aria-labelledby={labelledBy}
      min={min}
      max={max}
      step={step}
      disabled={disabled}
      value={draft ?? String(value)}
      onChange={(e) => {
        // Spinner clicks and arrow keys arrive without an inputType: commit those at once.
        const inputType = (e.nativeEvent as InputEvent).inputType;
        if (!inputType || inputType === 'insertReplacementText') commit(e.target.value);
        else setDraft(e.target.value);
      }}
      onBlur={(e) => commit(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') commit(e.currentTarget.value);
        if (e.key === 'Escape') setDraft(null);
      }}
    />
  );
}
