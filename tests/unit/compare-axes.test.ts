// Compare / X/Y grid settings: typed values parsed and range-checked as the run controls are,
// applied to a copy of the controls; the grid picture's layout arithmetic.
import { describe, expect, it } from 'vitest';
import {
  axisSetting,
  parseAxisList,
  parseAxisValue,
  DEFAULT_AXIS_VALUES,
  AXIS_SETTINGS,
} from '../../src/compare/axisSettings';
import { xyCellOrigin, xyGridLayout } from '../../src/compare/xyGridImage';
import { DEFAULT_CONTROLS } from '../../src/runControls';

describe('axis settings', () => {
  it('parses menu values in any case and numbers in range', () => {
    expect(parseAxisList(axisSetting('sampler'), ' euler , DDIM,dpm++ 2m karras', 8)).toEqual({
      ok: true,
      values: ['Euler', 'DDIM', 'DPM++ 2M Karras'],
    });
    expect(parseAxisList(axisSetting('guidanceScale'), '1, 3.5,7', 8)).toEqual({
      ok: true,
      values: [1, 3.5, 7],
    });
    expect(parseAxisValue(axisSetting('sigmaSchedule'), 'Karras')).toEqual({
      ok: true,
      value: 'karras',
    });
  });

  it('refuses bad values with a message that names the setting', () => {
    const steps = axisSetting('steps');
    expect(parseAxisValue(steps, '2.5')).toEqual({
      ok: false,
      problem: 'Steps: "2.5" is not a whole number',
    });
    expect(parseAxisValue(steps, '0')).toEqual({
      ok: false,
      problem: 'Steps: 0 is outside 1 to 200',
    });
    expect(parseAxisValue(axisSetting('guidanceScale'), 'lots')).toEqual({
      ok: false,
      problem: 'Guidance scale: "lots" is not a number',
    });
    const sampler = parseAxisList(axisSetting('sampler'), 'Euler,, DDIM', 8);
    expect(sampler).toEqual({ ok: false, problem: 'Sampler: a value is empty' });
    const nope = parseAxisValue(axisSetting('sampler'), 'Nope');
    expect(nope.ok).toBe(false);
    if (!nope.ok) expect(nope.problem).toMatch(/^Sampler: "Nope" is not one of Euler, Euler a, /);
    expect(parseAxisList(axisSetting('seed'), '1,2,3', 2)).toEqual({
      ok: false,
      problem: 'Seed: 3 values; at most 2 per axis',
    });
    expect(parseAxisList(axisSetting('eta'), '  ', 8)).toEqual({
      ok: false,
      problem: 'Eta: no values given',
    });
  });

  it('applies one value to a copy of the controls and leaves the rest', () => {
    const controls = { ...DEFAULT_CONTROLS, modelId: 'mnist' };
    const changed = axisSetting('guidanceScale').apply(controls, 7.5);
    expect(changed).toEqual({ ...controls, guidanceScale: 7.5 });
    expect(controls.guidanceScale).toBe(DEFAULT_CONTROLS.guidanceScale);
    expect(axisSetting('sampler').apply(controls, 'DDIM').sampler).toBe('DDIM');
    expect(axisSetting('spacing').apply(controls, 'trailing').spacing).toBe('trailing');
  });

  it('every setting starts with defaults that parse', () => {
    for (const setting of AXIS_SETTINGS) {
      const parsed = parseAxisList(setting, DEFAULT_AXIS_VALUES[setting.key].join(','), 8);
      expect(parsed.ok, setting.key).toBe(true);
    }
  });
});

describe('X/Y grid layout', () => {
  it('places cells after the label margins, with gaps between them', () => {
    const layout = xyGridLayout(3, 2, 28, 28);
    expect(layout).toMatchObject({ cellWidth: 112, cellHeight: 112, width: 472, height: 268 });
    expect(xyCellOrigin(layout, 0, 0)).toEqual({ x: 120, y: 32 });
    expect(xyCellOrigin(layout, 2, 1)).toEqual({ x: 120 + 2 * 116, y: 32 + 116 });
    const last = xyCellOrigin(layout, 2, 1);
    expect(last.x + layout.cellWidth + 8).toBe(layout.width);
    expect(last.y + layout.cellHeight + 8).toBe(layout.height);
  });
});
