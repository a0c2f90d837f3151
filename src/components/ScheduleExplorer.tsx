import { useEffect } from 'react';
import type { BetaScheduleName } from '../engine/schedule/betas';
import { SAMPLER_PRESETS } from '../engine/samplerPresets';
import type { TimestepSpacing } from '../engine/schedulers/types';
import { requestPlan } from '../engineClient';
import { useAppStore } from '../store';
import { SchedulePlot } from './SchedulePlot';

const SCHEDULES: { value: BetaScheduleName; label: string }[] = [
  { value: 'squaredcos_cap_v2', label: 'Cosine (squaredcos_cap_v2)' },
  { value: 'linear', label: 'Linear' },
  { value: 'scaled_linear', label: 'Scaled linear' },
  { value: 'sigmoid', label: 'Sigmoid' },
];
const SPACINGS: TimestepSpacing[] = ['linspace', 'leading', 'trailing'];

/** Pick a sampler and schedule; the worker's real scheduler says which timesteps it will visit. */
export function ScheduleExplorer() {
  const request = useAppStore((s) => s.planRequest);
  const setRequest = useAppStore((s) => s.setPlanRequest);
  const plan = useAppStore((s) => s.plan);
  const engineReady = useAppStore((s) => s.engine.state === 'ready');

  useEffect(() => {
    if (engineReady) requestPlan(request);
  }, [request, engineReady]);

  return (
    <section className="schedule-explorer" aria-label="Schedule explorer">
      <h2>Sampler and noise schedule</h2>
      <div className="controls">
        <label>
          Sampler
          <select value={request.sampler} onChange={(e) => setRequest({ sampler: e.target.value })}>
            {SAMPLER_PRESETS.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Schedule
          <select
            value={request.betaSchedule}
            onChange={(e) => setRequest({ betaSchedule: e.target.value as BetaScheduleName })}
          >
            {SCHEDULES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Spacing
          <select
            value={request.timestepSpacing}
            onChange={(e) => setRequest({ timestepSpacing: e.target.value as TimestepSpacing })}
          >
            {SPACINGS.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Steps
          <input
            type="number"
            min={1}
            max={200}
            value={request.steps}
            onChange={(e) => {
              const steps = Math.round(Number(e.target.value));
              if (Number.isFinite(steps) && steps >= 1 && steps <= 200) setRequest({ steps });
            }}
          />
        </label>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={request.karras}
            onChange={(e) => setRequest({ karras: e.target.checked })}
          />
          Karras sigmas
        </label>
      </div>
      {plan && (
        <>
          <SchedulePlot plan={plan} />
          <p className="plan-summary" data-testid="plan-summary">
            {plan.schedulerClass}: {plan.modelCallsPerRun} model calls, timesteps{' '}
            <span data-testid="plan-timesteps">
              {plan.timesteps.map((t) => Number(t.toFixed(2))).join(', ')}
            </span>
          </p>
        </>
      )}
    </section>
  );
}
