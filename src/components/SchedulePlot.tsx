import { useMemo } from 'react';
import type { SchedulePlan } from '../engine/schedulePlan';

const WIDTH = 640;
const HEIGHT = 220;
const PAD = 32;

/**
 * alphā_t and log-SNR over training time, with the timesteps the sampler visits marked, and the
 * timestep `current` (the step on show) ringed.
 */
export function SchedulePlot({ plan, current }: { plan: SchedulePlan; current?: number | null }) {
  const n = plan.alphasCumprod.length;
  const x = (t: number) => PAD + (t / (n - 1)) * (WIDTH - 2 * PAD);
  const y01 = (v: number) => HEIGHT - PAD - v * (HEIGHT - 2 * PAD);
  // The curves only change with the plan; during a run only the ring moves, once a frame.
  const curves = useMemo(() => {
    const xOf = (t: number) => PAD + (t / (n - 1)) * (WIDTH - 2 * PAD);
    const yOf = (v: number) => HEIGHT - PAD - v * (HEIGHT - 2 * PAD);
    const finite = plan.logSnr.filter(Number.isFinite);
    const lo = Math.min(...finite);
    const hi = Math.max(...finite);
    const ySnr = (v: number) => yOf((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo || 1));
    const line = (values: number[], y: (v: number) => number) =>
      values
        .map((v, t) => `${t === 0 ? 'M' : 'L'}${xOf(t).toFixed(1)},${y(v).toFixed(1)}`)
        .join('');
    return { alpha: line(plan.alphasCumprod, yOf), snr: line(plan.logSnr, ySnr) };
  }, [plan, n]);

  return (
    <svg
      className="schedule-plot"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label={`Noise schedule: alpha-bar and log-SNR against t, ${plan.timesteps.length} visited timesteps marked`}
    >
      <line x1={PAD} y1={HEIGHT - PAD} x2={WIDTH - PAD} y2={HEIGHT - PAD} className="axis" />
      <line x1={PAD} y1={PAD} x2={PAD} y2={HEIGHT - PAD} className="axis" />
      <text x={PAD} y={HEIGHT - 8} className="tick">
        t = 0
      </text>
      <text x={WIDTH - PAD} y={HEIGHT - 8} className="tick" textAnchor="end">
        t = {n - 1}
      </text>
      <path d={curves.alpha} className="curve alpha" />
      <path d={curves.snr} className="curve snr" />
      {plan.timesteps.map((t, i) => (
        <circle
          key={i}
          cx={x(t)}
          cy={y01(plan.alphasCumprod[Math.round(t)] ?? 0)}
          r={3}
          className="visit"
        />
      ))}
      {current != null && (
        <circle
          cx={x(current)}
          cy={y01(plan.alphasCumprod[Math.round(current)] ?? 0)}
          r={7}
          className="current-step"
          data-testid="plot-current-step"
        />
      )}
      <text x={WIDTH - PAD} y={PAD - 10} className="legend" textAnchor="end">
        <tspan className="alpha">alphā_t</tspan> · <tspan className="snr">log-SNR (scaled)</tspan> ·
        dots: visited timesteps
      </text>
    </svg>
  );
}
