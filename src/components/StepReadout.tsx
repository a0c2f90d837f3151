import { useAppStore } from '../store';

const ms = (value: number) => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;

/** Where the shown frame is in the run (step, t, sigma) and what its step cost. */
export function StepReadout() {
  const frame = useAppStore((s) => s.frames[s.currentFrame] ?? null);
  const status = useAppStore((s) => s.status);
  return (
    <div className="step-readout">
      <output
        data-testid="run-status"
        data-status={status}
        aria-label="Run status"
        className={`run-status ${status}`}
      >
        {status}
      </output>
      <output
        data-testid="step-readout"
        aria-label="Step"
        data-step={frame?.step ?? ''}
        data-total={frame?.totalSteps ?? ''}
        data-index={frame?.index ?? ''}
        data-cause={frame?.cause ?? ''}
        data-num-tensors={frame?.numTensors ?? ''}
        data-num-bytes={frame?.numBytes ?? ''}
      >
        {frame
          ? `Step ${frame.step} / ${frame.totalSteps} · t = ${Number(frame.timestep.toFixed(2))}` +
            ` · σ = ${frame.sigma.toPrecision(3)}`
          : 'No run yet'}
      </output>
      <output data-testid="timing" aria-label="Step timing">
        {frame && frame.totalMs > 0
          ? `model ${ms(frame.modelMs)} · whole step ${ms(frame.totalMs)}`
          : ''}
      </output>
    </div>
  );
}
