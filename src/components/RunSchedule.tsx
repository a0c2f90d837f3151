import { useAppStore } from '../store';
import { SchedulePlot } from './SchedulePlot';

/** The plan the run follows on the model's noise schedule, with the step on show ringed. */
export function RunSchedule() {
  const plan = useAppStore((s) => s.runPlan);
  const frame = useAppStore((s) => s.frames[s.currentFrame] ?? null);
  if (!plan) return null;
  return (
    <section className="run-schedule" aria-label="Schedule">
      <SchedulePlot plan={plan} current={frame?.timestep ?? null} />
      <p className="plan-summary" data-testid="plan-summary">
        {plan.schedulerClass}: {plan.modelCallsPerRun} model calls, timesteps{' '}
        <span data-testid="plan-timesteps">
          {plan.timesteps.map((t) => Number(t.toFixed(2))).join(', ')}
        </span>
      </p>
    </section>
  );
}
