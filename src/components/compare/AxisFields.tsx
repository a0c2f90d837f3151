import { AXIS_SETTINGS, axisSetting, type AxisKey } from '../../compare/axisSettings';

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
    <label>
      {label}
      <select
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value as AxisKey)}
      >
        {AXIS_SETTINGS.map((s) => (
          <option key={s.key} value={s.key}>
            {s.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** One value of `setting`: its menu when it has one, else a number typed as text. */
export function AxisValueField({
  label,
  setting,
  value,
  onChange,
  disabled = false,
}: {
  label: string;
  setting: AxisKey;
  value: string;
  onChange(text: string): void;
  disabled?: boolean;
}) {
  const { choices } = axisSetting(setting);
  return (
    <label>
      {label}
      {choices ? (
        <select value={value} disabled={disabled} onChange={(e) => onChange(e.target.value)}>
          {!choices.includes(value) && <option value={value}>{value}</option>}
          {choices.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      ) : (
        <input
          type="text"
          inputMode="decimal"
          value={value}
          disabled={disabled}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </label>
  );
}
