import { axisLabel, axisSetting, DEFAULT_AXIS_VALUES } from '../../compare/axisSettings';
import { pauseCompare, playCompare, startCompare, stepCompare } from '../../compare/compareSession';
import { useAppStore } from '../../store';
import { useCompareStore } from '../../state/compareStore';
import { AxisSelect, AxisValueField } from './AxisFields';
import { CompareView } from './CompareView';

/**
 * Two runs side by side from the main controls, seed and source, with one setting changed.
 * Step both and Play both drive the two together: both always show the same step index.
 */
export function ComparePanel() {
  const hasModel = useAppStore((s) => s.model !== null);
  const { setting, leftText, rightText, status, sides, stepIndex, problem } = useCompareStore();
  const { setSetting, setValues } = useCompareStore.getState();
  const busy = status === 'starting' || status === 'stepping';
  const label = (text: string, i: number) => {
    const value = sides[i]?.value ?? text;
    return axisLabel(axisSetting(setting), value);
  };

  return (
    <section className="compare-panel" aria-label="Compare">
      <p className="hint">
        Two images from the same seed and settings, one setting changed, stepping together.
      </p>
      <div className="compare-fields">
        <AxisSelect
          label="Compare setting"
          value={setting}
          disabled={busy || status === 'playing'}
          onChange={(key) =>
            setSetting(key, DEFAULT_AXIS_VALUES[key][0], DEFAULT_AXIS_VALUES[key][1])
          }
        />
        <AxisValueField
          label="Left value"
          setting={setting}
          value={leftText}
          onChange={(leftText) => setValues({ leftText })}
        />
        <AxisValueField
          label="Right value"
          setting={setting}
          value={rightText}
          onChange={(rightText) => setValues({ rightText })}
        />
      </div>
      <div className="compare-buttons" role="group" aria-label="Compare run">
        <button type="button" disabled={!hasModel || busy} onClick={() => void startCompare()}>
          Start comparison
        </button>
        <button type="button" disabled={status !== 'ready'} onClick={() => void stepCompare()}>
          Step both
        </button>
        {status === 'playing' ? (
          <button type="button" onClick={pauseCompare}>
            Pause both
          </button>
        ) : (
          <button type="button" disabled={status !== 'ready'} onClick={() => void playCompare()}>
            Play both
          </button>
        )}
        <span data-testid="compare-status" data-status={status} data-step={stepIndex}>
          {status === 'starting'
            ? 'Starting both runs…'
            : sides.length > 0
              ? `Step ${stepIndex} on both sides`
              : ''}
        </span>
      </div>
      {problem && (
        <p role="alert" className="compare-problem">
          {problem}
        </p>
      )}
      <div className="compare-sides">
        <CompareView label="Compare left" caption={label(leftText, 0)} side={sides[0] ?? null} />
        <CompareView label="Compare right" caption={label(rightText, 1)} side={sides[1] ?? null} />
      </div>
    </section>
  );
}
