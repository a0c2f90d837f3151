// The forward process on the user's source: x_t ~ q(x_t | x_0) for any t, with the noise drawn
// by the engine's seeded RNG, so a seed shows the same noise here as in a run.
import { useId, useMemo, useState } from 'react';
import { Xoshiro128, gaussianArray } from '../../engine/gaussian';
import type { NoiseScheduleConfig } from '../../engine/schedule/betas';
import {
  TRAINING_SCHEDULE,
  alphasCumprodFor,
  forwardSample,
  forwardStats,
} from '../../source/forwardProcess';
import { pixelCount } from '../../source/geometry';
import { imageToRgba } from '../../source/render';
import { useSourceStore } from '../../state/sourceStore';
import { PixelCanvas } from './PixelCanvas';

const formatNumber = (v: number) =>
  v === 0 || (Math.abs(v) >= 0.001 && Math.abs(v) < 10000) ? v.toFixed(4) : v.toExponential(3);

export function ForwardProcessView({
  schedule = TRAINING_SCHEDULE,
}: {
  schedule?: NoiseScheduleConfig;
}) {
  const pixels = useSourceStore((s) => s.pixels);
  const [timestep, setTimestep] = useState(500);
  const [seed, setSeed] = useState(0);
  const timestepId = useId();
  const seedId = useId();
  const alphasCumprod = alphasCumprodFor(schedule);
  const maxT = alphasCumprod.length - 1;
  const t = Math.min(timestep, maxT);
  const stats = forwardStats(alphasCumprod[t]);

  // One noise value per value of the source: 28x28 grey or 32x32x3 colour (HWC).
  const geometry = useSourceStore((s) => s.geometry);
  const count = pixelCount(geometry);
  const values = count * geometry.channels;
  const noise = useMemo(() => gaussianArray(new Xoshiro128(seed), values), [seed, values]);
  const rgba = useMemo(() => {
    if (!pixels || pixels.length !== noise.length) return imageToRgba(null, count);
    return imageToRgba(forwardSample(pixels, noise, stats.alphaBar), count);
  }, [pixels, noise, stats.alphaBar, count]);

  return (
    <section className="forward-process" aria-label="Forward process">
      <h3>Forward process q(x_t | x_0)</h3>
      <p className="hint">
        x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε, the noisy image a model sees at timestep t (
        {schedule.beta_schedule}, {schedule.num_train_timesteps} training steps). Shown clipped to
        [−1, 1].
      </p>
      <div className="forward-body">
        <PixelCanvas
          rgba={rgba}
          role="img"
          aria-label="Forward process x_t"
          className="forward-canvas"
          data-timestep={t}
          data-ready={pixels && noise ? 'true' : 'false'}
        />
        <div className="controls forward-controls">
          <div className="field">
            <label htmlFor={timestepId}>Forward timestep</label>
            <input
              id={timestepId}
              type="range"
              min={0}
              max={maxT}
              step={1}
              value={t}
              onChange={(e) => setTimestep(Number(e.target.value))}
            />
            <output htmlFor={timestepId}>t = {t}</output>
          </div>
          <div
            className="field"
            title="Seed of the noise ε, drawn with the engine's RNG (the same ε an image with this seed starts from in a run)"
          >
            <label htmlFor={seedId}>Noise draw</label>
            <input
              id={seedId}
              type="number"
              min={0}
              max={4294967295}
              step={1}
              value={seed}
              onChange={(e) => {
                const v = Number(e.target.value);
                if (Number.isInteger(v) && v >= 0 && v < 2 ** 32) setSeed(v);
              }}
            />
          </div>
          <dl className="forward-stats">
            <dt>ᾱ_t</dt>
            <dd data-testid="forward-alpha-bar">{formatNumber(stats.alphaBar)}</dd>
            <dt>SNR = ᾱ_t / (1 − ᾱ_t)</dt>
            <dd data-testid="forward-snr">{formatNumber(stats.snr)}</dd>
            <dt>log-SNR</dt>
            <dd>{Math.log(stats.snr).toFixed(3)}</dd>
          </dl>
          {!pixels && <p className="hint">Choose a source image to see it noised.</p>}
        </div>
      </div>
    </section>
  );
}
