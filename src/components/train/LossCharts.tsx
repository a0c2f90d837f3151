// The training curves: the loss per step (faint) and its exponential moving average, and the
// loss per timestep bucket beside the weight the ELBO would give each bucket.
import { useEffect, useMemo, useRef } from 'react';
import { bucketOf, elboWeights, toyTables } from '../../engine/train/noiseTables';
import { useTrainStore } from './trainStore';

const WIDTH = 320;
const HEIGHT = 160;

function prepareChart(canvas: HTMLCanvasElement | null): CanvasRenderingContext2D | null {
  if (!canvas) return null;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(WIDTH * ratio);
  canvas.height = Math.round(HEIGHT * ratio);
  const ctx = canvas.getContext('2d');
  ctx?.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx?.clearRect(0, 0, WIDTH, HEIGHT);
  return ctx;
}

export function LossCurve() {
  const ref = useRef<HTMLCanvasElement>(null);
  const losses = useTrainStore((s) => s.losses);
  useEffect(() => {
    const ctx = prepareChart(ref.current);
    if (!ctx || losses.length === 0) return;
    // Log scale: the loss falls by orders of magnitude in the first hundred steps.
    const values = losses
      .flatMap((p) => [p.loss, p.ema])
      .filter((v) => v > 0 && Number.isFinite(v));
    const lo = Math.log(Math.min(...values));
    const hi = Math.log(Math.max(...values));
    const span = hi - lo || 1;
    const lastStep = losses[losses.length - 1].step;
    const x = (step: number) => (step / Math.max(lastStep, 1)) * (WIDTH - 10) + 5;
    const y = (v: number) => HEIGHT - 5 - ((Math.log(v) - lo) / span) * (HEIGHT - 10);
    for (const [key, color] of [
      ['loss', 'rgba(100, 116, 139, 0.35)'],
      ['ema', '#2563eb'],
    ] as const) {
      ctx.strokeStyle = color;
      ctx.lineWidth = key === 'ema' ? 2 : 1;
      ctx.beginPath();
      losses.forEach((p, i) =>
        i === 0 ? ctx.moveTo(x(p.step), y(p[key])) : ctx.lineTo(x(p.step), y(p[key])),
      );
      ctx.stroke();
    }
  }, [losses]);
  const last = losses[losses.length - 1];
  return (
    <figure className="train-figure">
      <canvas
        ref={ref}
        aria-label="Loss curve"
        className="train-chart"
        style={{ width: WIDTH, height: HEIGHT }}
      />
      <figcaption data-testid="loss-readout" data-loss-ema={last ? last.ema : ''}>
        Loss (log scale, blue: EMA){last ? `: ${last.ema.toFixed(4)} at step ${last.step}` : ''}
      </figcaption>
    </figure>
  );
}

export function BucketChart() {
  const ref = useRef<HTMLCanvasElement>(null);
  const buckets = useTrainStore((s) => s.bucketEma);
  const model = useTrainStore((s) => s.model);
  const elbo = useMemo(() => {
    const weights = elboWeights(toyTables(model), model.prediction);
    const sums = new Array<number>(10).fill(0);
    const counts = new Array<number>(10).fill(0);
    weights.forEach((w, t) => {
      const b = bucketOf(t, model.numTrainTimesteps, 10);
      sums[b] += w;
      counts[b] += 1;
    });
    return sums.map((s, i) => s / Math.max(counts[i], 1));
  }, [model]);

  useEffect(() => {
    const ctx = prepareChart(ref.current);
    if (!ctx) return;
    const n = elbo.length;
    const barWidth = (WIDTH - 10) / n;
    const maxLoss = Math.max(...buckets.filter(Number.isFinite), 1e-9);
    buckets.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      const h = (v / maxLoss) * (HEIGHT - 20);
      ctx.fillStyle = '#93c5fd';
      ctx.fillRect(5 + i * barWidth + 2, HEIGHT - 5 - h, barWidth - 4, h);
    });
    // The ELBO weights span orders of magnitude (huge at t = 0): drawn on a log scale.
    const logs = elbo.map((w) => Math.log(w));
    const lo = Math.min(...logs);
    const span = Math.max(...logs) - lo || 1;
    ctx.strokeStyle = '#dc2626';
    ctx.lineWidth = 2;
    ctx.beginPath();
    logs.forEach((l, i) => {
      const px = 5 + (i + 0.5) * barWidth;
      const py = HEIGHT - 5 - ((l - lo) / span) * (HEIGHT - 20);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    });
    ctx.stroke();
  }, [buckets, elbo]);

  return (
    <figure className="train-figure">
      <canvas
        ref={ref}
        aria-label="Loss per timestep"
        className="train-chart"
        style={{ width: WIDTH, height: HEIGHT }}
      />
      <figcaption>
        Loss per timestep bucket, t = 0 on the left (bars, EMA) and the weight the ELBO would give
        each bucket relative to the plain loss (red, log scale): the simple loss drops it.
      </figcaption>
    </figure>
  );
}
