// The variational bound of one image in bits per dimension: pick the image (the source or the
// last generated sample), the number of KL terms and the conditioning, press Compute ELBO. The
// worker evaluates it in chunks (src/engine/elbo); the result lists the parts and plots L_t.
import { useEffect, useRef, useState } from 'react';
import type { ElboReport } from '../../engine/elbo/elboJob';
import { computeElbo } from '../../engineClient';
import { useSourceStore } from '../../state/sourceStore';
import { useAppStore } from '../../store';
import { SelectField } from '../Field';
import { LtPlot } from './LtPlot';
import { ESTIMATE_ACCURACY } from './estimateAccuracy';
import { pickSample, pickSource, type ElboImageKind } from './elboImage';
import './elbo.css';

const K_CHOICES = [10, 25, 50, 100, 250];
const VARIANCE_NAMES = {
  fixed_small: 'fixed_small (posterior variance β̃_t)',
  fixed_large: 'fixed_large (β_t)',
};

type Job =
  | { state: 'idle' }
  | { state: 'running'; done: number; total: number }
  | { state: 'done'; report: ElboReport; image: string }
  | { state: 'failed'; message: string };

const bits = (v: number) => (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(4));

export function ElboPanel() {
  const model = useAppStore((s) => s.model);
  const status = useAppStore((s) => s.status);
  const lastFrame = useAppStore((s) => s.frames.at(-1) ?? null);
  const classId = useAppStore((s) => s.controls.classId);
  const numTimesteps = useAppStore((s) => s.runPlan?.alphasCumprod.length ?? 1000);
  const sourcePixels = useSourceStore((s) => s.pixels);
  const sourceLabel = useSourceStore((s) => s.sourceLabel);
  // Until the user chooses: the source image when there is one, else the last sample.
  const [kindChoice, setKind] = useState<ElboImageKind | null>(null);
  const kind = kindChoice ?? (sourcePixels ? 'source' : 'sample');
  const [timesteps, setTimesteps] = useState<string>('50');
  const [conditioning, setConditioning] = useState<'auto' | 'unconditional'>('auto');
  const [job, setJob] = useState<Job>({ state: 'idle' });
  const cancelRef = useRef<(() => void) | null>(null);
  /** Bumped whenever a job starts or is abandoned: replies of older jobs are ignored. */
  const tokenRef = useRef(0);
  useEffect(() => () => cancelRef.current?.(), []);

  const picked = !model
    ? null
    : kind === 'source'
      ? pickSource(sourcePixels, sourceLabel, model)
      : pickSample(lastFrame, classId, model);
  const knownClass = picked?.ok ? picked.knownClass : null;
  const conditional = conditioning === 'auto' && knownClass !== null;
  const running = job.state === 'running';
  const runGoesOn = status === 'running' || status === 'paused';

  const abandon = (next: Job) => {
    cancelRef.current?.();
    cancelRef.current = null;
    tokenRef.current++;
    setJob(next);
  };
  // A run started meanwhile (Generate, Step): the two would share the engine thread; the run wins.
  useEffect(() => {
    if (!runGoesOn || !cancelRef.current) return;
    cancelRef.current();
    cancelRef.current = null;
    tokenRef.current++;
    setJob({ state: 'failed', message: 'ELBO cancelled: a run started.' });
  }, [runGoesOn]);

  const start = () => {
    if (!picked) return;
    if (!picked.ok) return abandon({ state: 'failed', message: picked.problem });
    const description = picked.description;
    const token = ++tokenRef.current;
    const live = () => tokenRef.current === token;
    let refused = false;
    const cancel = computeElbo(
      {
        pixels: picked.pixels,
        classId: conditional ? knownClass : null,
        timesteps: timesteps === 'all' ? 'all' : Number(timesteps),
        seed: 0,
      },
      {
        onProgress: (done, total) => {
          if (live()) setJob({ state: 'running', done, total });
        },
        onResult: (report) => {
          if (!live()) return;
          cancelRef.current = null;
          setJob({ state: 'done', report, image: description });
        },
        onError: (message, cancelled) => {
          refused = true;
          if (!live()) return;
          cancelRef.current = null;
          setJob(cancelled ? { state: 'idle' } : { state: 'failed', message });
        },
      },
    );
    if (refused) return;
    cancelRef.current = cancel;
    setJob({ state: 'running', done: 0, total: 0 });
  };

  return (
    <details className="elbo-panel">
      <summary>ELBO (bits per dimension)</summary>
      <p className="elbo-intro">
        The variational bound on −log p(x) of one image (Ho et al. 2020): the decoder term L_0 (a
        discretised Gaussian on the 8-bit grid), the KL terms L_t for t = 1 … T−1 and the prior term
        L_T, with the model card's fixed reverse variance. Lower is better.
      </p>
      <div className="elbo-controls">
        <SelectField
          label="Image"
          value={kind}
          onChange={(e) => setKind(e.target.value as ElboImageKind)}
          disabled={running}
        >
          <option value="source">Source image</option>
          <option value="sample">Last generated sample</option>
        </SelectField>
        <SelectField
          label="Timesteps"
          value={timesteps}
          onChange={(e) => setTimesteps(e.target.value)}
          disabled={running}
        >
          {K_CHOICES.map((k) => (
            <option key={k} value={String(k)}>
              {k}
            </option>
          ))}
          <option value="all">all {numTimesteps}</option>
        </SelectField>
        <SelectField
          label="Conditioning"
          value={conditioning}
          onChange={(e) => setConditioning(e.target.value as 'auto' | 'unconditional')}
          disabled={running}
        >
          <option value="auto">Class-conditional</option>
          <option value="unconditional">Unconditional</option>
        </SelectField>
        {running ? (
          <button type="button" onClick={() => abandon({ state: 'idle' })}>
            Cancel ELBO
          </button>
        ) : (
          <button
            type="button"
            onClick={start}
            disabled={!model || status === 'loading' || runGoesOn}
          >
            Compute ELBO
          </button>
        )}
      </div>
      <p className="elbo-note" data-testid="elbo-image">
        {picked && !picked.ok
          ? picked.problem
          : picked
            ? `Measures ${picked.description}; ` +
              (conditional
                ? `conditioned on class ${model?.classLabels[knownClass!] ?? knownClass}.`
                : knownClass === null && conditioning === 'auto'
                  ? 'its class is unknown, so the bound is unconditional (null class).'
                  : 'unconditional (null class).')
            : 'Waiting for the model.'}
        {runGoesOn && ' A run is in progress: cancel it or let it finish to compute the ELBO.'}
      </p>
      <p className="elbo-note">
        {timesteps === 'all'
          ? `All ${numTimesteps - 1} KL terms: ${numTimesteps} model evaluations.`
          : `A stratified estimate: one t drawn in each of ${timesteps} strata of 1 … ` +
            `${numTimesteps - 1} that widen geometrically with t, weighted by its stratum's ` +
            `size, plus the exact L_0 and L_T ` +
            `(${Number(timesteps) + 1} model evaluations). ${ESTIMATE_ACCURACY}`}
      </p>
      <output className="elbo-progress" aria-label="ELBO progress" data-state={job.state}>
        {job.state === 'running'
          ? job.total
            ? `Computing: ${job.done} / ${job.total} model evaluations`
            : 'Computing…'
          : job.state === 'failed'
            ? job.message
            : ''}
      </output>
      {job.state === 'done' && <ElboResult report={job.report} image={job.image} />}
    </details>
  );
}

function ElboResult({ report, image }: { report: ElboReport; image: string }) {
  const { K, T } = report.timestepsUsed;
  const exact = K >= T - 1;
  return (
    <div className="elbo-result">
      <output
        className="elbo-bpd"
        aria-label="Bits per dimension"
        data-bits-per-dim={report.bitsPerDim}
        data-variance={report.variance}
      >
        {report.bitsPerDim.toFixed(3)} bits/dim
      </output>
      <p className="elbo-note">
        {image}, {report.conditioning}
        {report.conditioning === 'class-conditional' ? ` (class ${report.classId})` : ''};{' '}
        {exact ? `all ${T - 1} KL terms` : `${K} of ${T - 1} KL terms (stratified estimate)`};
        variance {VARIANCE_NAMES[report.variance]}; {report.seconds.toFixed(1)} s.
      </p>
      <table className="elbo-terms">
        <tbody>
          <tr>
            <th scope="row">L_0 (decoder)</th>
            <td>{bits(report.decoderBits)}</td>
          </tr>
          <tr>
            <th scope="row">Σ L_t, t = 1 … {T - 1}</th>
            <td>{bits(report.klSumBits)}</td>
          </tr>
          <tr>
            <th scope="row">L_T (prior)</th>
            <td>{bits(report.priorBits)}</td>
          </tr>
          <tr>
            <th scope="row">Total</th>
            <td>{bits(report.bitsPerDim)}</td>
          </tr>
          <tr>
            <th scope="row">With {VARIANCE_NAMES[report.other.variance]}</th>
            <td data-testid="elbo-other-variance">{bits(report.other.bitsPerDim)}</td>
          </tr>
        </tbody>
      </table>
      <LtPlot report={report} />
    </div>
  );
}
