import { useEffect, useMemo, useRef } from 'react';
import type { ElboReport } from '../../engine/elbo/elboJob';

const WIDTH = 640;
const HEIGHT = 240;
const PAD = { left: 56, right: 16, top: 28, bottom: 32 };

/** The terms worth a point on a log axis (a KL term can be exactly 0 in float64). */
function plottedTerms(report: ElboReport) {
  return report.terms.filter((term) => term.t > 0 && term.bits > 0 && Number.isFinite(term.bits));
}

/**
 * L_t in bits/dim against t on a log scale: every evaluated KL term (one per stratum when
 * estimated), with L_0 at t = 0 and L_T at t = T marked apart.
 */
export function LtPlot({ report }: { report: ElboReport }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const terms = useMemo(() => plottedTerms(report), [report]);

  useEffect(() => {
    const ctx = canvasRef.current?.getContext('2d');
    if (!ctx) return;
    const T = report.timestepsUsed.T;
    const ends = [report.decoderBits, report.priorBits].filter((v) => v > 0);
    const values = [...terms.map((term) => term.bits), ...ends];
    const lo = Math.floor(Math.log10(Math.min(...values, 1)));
    const hi = Math.ceil(Math.log10(Math.max(...values, 1e-3)));
    const x = (t: number) => PAD.left + (t / T) * (WIDTH - PAD.left - PAD.right);
    const y = (v: number) =>
      PAD.top + ((hi - Math.log10(v)) / (hi - lo || 1)) * (HEIGHT - PAD.top - PAD.bottom);

    ctx.clearRect(0, 0, WIDTH, HEIGHT);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    ctx.strokeStyle = '#ccc';
    ctx.fillStyle = '#555';
    ctx.font = '11px sans-serif';
    for (let p = lo; p <= hi; p++) {
      ctx.beginPath();
      ctx.moveTo(PAD.left, y(10 ** p));
      ctx.lineTo(WIDTH - PAD.right, y(10 ** p));
      ctx.stroke();
      ctx.fillText(`1e${p}`, 8, y(10 ** p) + 4);
    }
    ctx.fillText('t = 0', PAD.left, HEIGHT - 10);
    ctx.fillText(`t = ${T}`, WIDTH - PAD.right - 40, HEIGHT - 10);
    ctx.fillText('L_t, bits/dim (log scale)', PAD.left + 60, 12);

    ctx.strokeStyle = '#1f77b4';
    ctx.fillStyle = '#1f77b4';
    ctx.beginPath();
    terms.forEach((term, i) => {
      if (i === 0) ctx.moveTo(x(term.t), y(term.bits));
      else ctx.lineTo(x(term.t), y(term.bits));
    });
    ctx.stroke();
    if (terms.length <= 250) {
      for (const term of terms) ctx.fillRect(x(term.t) - 2, y(term.bits) - 2, 4, 4);
    }
    const mark = (t: number, v: number, colour: string, label: string) => {
      if (!(v > 0)) return;
      ctx.fillStyle = colour;
      ctx.beginPath();
      ctx.arc(x(t), y(v), 5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillText(label, Math.min(x(t) + 8, WIDTH - PAD.right - 30), y(v) - 6);
    };
    mark(0, report.decoderBits, '#d62728', 'L_0');
    mark(T, report.priorBits, '#2ca02c', 'L_T');
  }, [report, terms]);

  return (
    <canvas
      ref={canvasRef}
      className="elbo-plot"
      width={WIDTH}
      height={HEIGHT}
      role="img"
      aria-label="L_t over t"
      data-points={terms.length}
    />
  );
}
