import { useId } from 'react';
import { AXIS_SETTINGS, axisSetting, type AxisKey } from '../../compare/axisSettings';
import { SelectField } from '../Field';

/** A menu of the settings a comparison or grid can vary. */
export function AxisSelect({
  label,
  value,
  onChange,
  disabled = false,
}: {
  label: string;
  value: AxisKey;
  onChange(key: AxisKey): void;
  disabled?: boolean;
}) {
  return (
    <SelectField
      label={label}
      value={value}
      disabled={disabled}
      onChange={(e) => onChange(e.target.value as AxisKey)}
    >
      {AXIS_SETTINGS.map((s) => (
        <option key={s.key} value={s.key}>
          {s.label}
        </option>
      ))}
    </SelectField>
  );
}

/** A text box whose accessible name is exactly its label (the label points at it). */
export function TextField({
  label,
  value,
  onChange,
  decimal = false,
}: {
  label: string;
  value: string;
  onChange(text: string): void;
  decimal?: boolean;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        inputMode={decimal ? 'decimal' : undefined}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
}

/** One value of `setting`: its menu when it has one, else a number typed as text. */
export function AxisValueField({
  label,
  setting,
  value,
  onChange,
}: {
  label: string;
  setting: AxisKey;
  value: string;
  onChange(text: string): void;
}) {
  const { choices } = axisSetting(setting);
  if (!choices) return <TextField label={label} value={value} onChange={onChange} decimal />;
  return (
    <SelectField label={label} value={value} onChange={(e) => onChange(e.target.value)}>
      {!choices.includes(value) && <option value={value}>{value}</option>}
      {choices.map((c) => (
        <option key={c} value={c}>
          {c}
        </option>
      ))}
    </SelectField>
  );
}
