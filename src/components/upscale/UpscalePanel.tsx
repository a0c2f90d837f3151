// The cascade's second stage in the page: pick a low-res colour source (the main run's image, an
// example, an upload), press Upscale, and watch the super-resolution model's own reverse process
// (x_t, predicted x_0, the low-res input beside them, a timeline), with its sampler, steps, seed
// and noise-augmentation level. Runs in its own worker (upscaleClient.ts); one self-contained panel.
import { useEffect, useId, useMemo, useState } from 'react';
import { SAMPLER_PRESETS } from '../../engine/samplerPresets';
import { useAppStore } from '../../store';
import { useSourceStore } from '../../state/sourceStore';
import type { FrameData } from '../../worker/protocol';
import { Panel } from '../layout/Panel';
import { ViewCanvas } from '../ViewCanvas';
import { ensureUpscaleWorker, SR_MODEL_PATH, startUpscale, upscaleCommands } from './upscaleClient';
import {
  consistencyDb,
  exampleBatch,
  loadExamples,
  MAX_UPSCALE_BATCH,
  sourceFromFile,
  sourceFromFrame,
  sourceFromPanel,
  type UpscaleExample,
} from './upscaleSources';
import { useUpscaleStore, type LowResSource, type UpscaleSettings } from './upscaleStore';
import './upscale.css';

/** A FrameData-shaped wrapper so ViewCanvas can draw any NHWC byte image. */
function imageFrame(
  bytes: Uint8Array,
  batch: number,
  h: number,
  w: number,
): { frame: FrameData; bytes: ArrayBuffer } {
  const buffer = bytes.slice().buffer;
  const frame = {
    runId: 0,
    index: 0,
    step: 0,
    totalSteps: 0,
    timestep: 0,
    sigma: 0,
    batch,
    height: h,
    width: w,
    channels: 3,
    sample: buffer,
    predictedX0: null,
    predictedNoise: null,
    modelMs: 0,
    totalMs: 0,
    numTensors: 0,
    numBytes: 0,
    cause: 'start',
  } satisfies FrameData;
  return { frame, bytes: buffer };
}

function toBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++)
    out[i] = Math.max(0, Math.min(255, Math.round((values[i] + 1) * 127.5)));
  return out;
}

function SourceChooser() {
  const source = useUpscaleStore((s) => s.source);
  const set = useUpscaleStore((s) => s.set);
  const mainFrame = useAppStore((s) => s.frames[s.currentFrame] ?? null);
  const fromMain = useMemo(() => sourceFromFrame(mainFrame), [mainFrame]);
  const panelPixels = useSourceStore((s) => s.pixels);
  const panelGeometry = useSourceStore((s) => s.geometry);
  const panelLabel = useSourceStore((s) => s.sourceLabel);
  const fromPanel = useMemo(
    () => sourceFromPanel(panelPixels, panelGeometry, panelLabel),
    [panelPixels, panelGeometry, panelLabel],
  );
  const [examples, setExamples] = useState<UpscaleExample[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const exampleId = useId();

  useEffect(() => {
    let live = true;
    const modelUrl = new URL(`${import.meta.env.BASE_URL}${SR_MODEL_PATH}`, window.location.href)
      .href;
    loadExamples(modelUrl)
      .then((list) => live && setExamples(list))
      .catch((err: unknown) => live && setProblem(`examples: ${(err as Error).message}`));
    return () => {
      live = false;
    };
  }, []);

  const choose = (next: LowResSource) => {
    setProblem(null);
    ensureUpscaleWorker(); // load the model while the person sets up the run
    set({ source: next });
  };

  const shown = source
    ? imageFrame(toBytes(source.pixels), source.batch, source.shape[0], source.shape[1])
    : null;
  return (
    <div className="upscale-source">
      <div className="upscale-source-buttons">
        <button
          type="button"
          disabled={!fromMain}
          title={
            fromMain
              ? 'The image the main view shows (up to 4 of its batch)'
              : 'Run a model first (images with sides a multiple of 4)'
          }
          onClick={() => fromMain && choose(fromMain)}
        >
          Use main view image
        </button>
        <button
          type="button"
          disabled={!fromPanel}
          title={
            fromPanel
              ? "The Source panel's picture (example, upload or drawing)"
              : 'Pick, upload or draw a source in the Source panel first'
          }
          onClick={() => fromPanel && choose(fromPanel)}
        >
          Use source image
        </button>
        <label className="upscale-upload">
          Upload…
          <input
            type="file"
            accept="image/*"
            aria-label="Upload a low-res picture to upscale"
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (!file) return;
              sourceFromFile(file).then(choose, (err: unknown) =>
                setProblem((err as Error).message),
              );
            }}
          />
        </label>
        <label htmlFor={exampleId} className="visually-hidden">
          Example
        </label>
        <select
          id={exampleId}
          aria-label="Example low-res picture"
          value=""
          disabled={!examples?.length}
          onChange={(e) => {
            if (e.target.value === 'batch' && examples) choose(exampleBatch(examples));
            const pick = examples?.[Number(e.target.value)];
            if (pick) choose(pick.source);
          }}
        >
          <option value="">Example…</option>
          {examples?.map((x, i) => (
            <option key={x.label} value={i}>
              {x.label}
            </option>
          ))}
          {examples && examples.length >= MAX_UPSCALE_BATCH && (
            <option value="batch">The first {MAX_UPSCALE_BATCH} examples at once</option>
          )}
        </select>
      </div>
      {problem && <p className="upscale-problem">{problem}</p>}
      {shown && source ? (
        <div className="upscale-source-view" data-testid="upscale-source">
          <ViewCanvas
            label={`${source.label} (${source.shape[1]}×${source.shape[0]})`}
            frame={shown.frame}
            bytes={shown.bytes}
          />
        </div>
      ) : (
        <p className="upscale-hint">
          Choose a low-res picture: the main view&apos;s image, an example or an upload.
        </p>
      )}
    </div>
  );
}

function UpscaleSettingsFields() {
  const settings = useUpscaleStore((s) => s.settings);
  const setSettings = useUpscaleStore((s) => s.setSettings);
  const model = useUpscaleStore((s) => s.model);
  const maxLevel = model?.maxNoiseLevel ?? 350;
  const ids = { sampler: useId(), spacing: useId(), steps: useId(), seed: useId(), noise: useId() };
  return (
    <div className="upscale-settings">
      <label htmlFor={ids.sampler}>Sampler</label>
      <select
        id={ids.sampler}
        value={settings.sampler}
        onChange={(e) => setSettings({ sampler: e.target.value })}
      >
        {SAMPLER_PRESETS.map((p) => (
          <option key={p.name} value={p.name}>
            {p.name}
          </option>
        ))}
      </select>
      <label
        htmlFor={ids.spacing}
        title="Where the steps sit on the 1000 training timesteps. The model's own (trailing) starts at t = 999, from pure noise; second-order k-samplers (Heun, DPM2 a) overshoot from that first, huge noise level: use leading for them"
      >
        Spacing
      </label>
      <select
        id={ids.spacing}
        value={settings.spacing ?? ''}
        onChange={(e) =>
          setSettings({ spacing: (e.target.value || null) as UpscaleSettings['spacing'] })
        }
      >
        <option value="">model&apos;s own (trailing)</option>
        <option value="leading">leading</option>
        <option value="trailing">trailing</option>
        <option value="linspace">linspace</option>
      </select>
      <label htmlFor={ids.steps}>Steps</label>
      <input
        id={ids.steps}
        type="number"
        min={1}
        max={1000}
        value={settings.steps}
        onChange={(e) => {
          const v = Math.round(Number(e.target.value));
          if (v >= 1 && v <= 1000) setSettings({ steps: v });
        }}
      />
      <label htmlFor={ids.seed}>Seed</label>
      <input
        id={ids.seed}
        type="number"
        min={0}
        value={settings.seed}
        onChange={(e) => {
          const v = Math.round(Number(e.target.value));
          if (v >= 0 && v <= 2 ** 32 - 1) setSettings({ seed: v });
        }}
      />
      <label
        htmlFor={ids.noise}
        title="The low-res input is noised to this level (CDM noise-conditioning augmentation) and the model is told the level: higher levels trust the input less"
      >
        Noise augmentation
      </label>
      <span className="upscale-noise">
        <input
          id={ids.noise}
          type="range"
          min={0}
          max={maxLevel}
          step={5}
          value={settings.noiseLevel}
          onChange={(e) => setSettings({ noiseLevel: Number(e.target.value) })}
        />
        <output htmlFor={ids.noise}>{settings.noiseLevel}</output>
      </span>
    </div>
  );
}

function UpscaleRun() {
  const status = useUpscaleStore((s) => s.status);
  const source = useUpscaleStore((s) => s.source);
  const settings = useUpscaleStore((s) => s.settings);
  const frames = useUpscaleStore((s) => s.frames);
  const current = useUpscaleStore((s) => s.currentFrame);
  const showFrame = useUpscaleStore((s) => s.showFrame);
  const canStepBack = useUpscaleStore((s) => s.canStepBack);
  const conditioning = useUpscaleStore((s) => s.conditioning);
  const runSource = useUpscaleStore((s) => s.runSource);
  const frame = frames[current] ?? null;
  const timelineId = useId();
  const running = status === 'running';
  const inRun = running || status === 'paused';

  const input = conditioning
    ? imageFrame(
        toBytes(conditioning.pixels),
        frame?.batch ?? 1,
        conditioning.shape[0],
        conditioning.shape[1],
      )
    : null;
  const last = frames[frames.length - 1];
  const consistency =
    status === 'done' && last && runSource && last.batch === runSource.batch
      ? consistencyDb(
          new Uint8Array(last.sample),
          runSource.pixels,
          last.batch,
          runSource.shape[0],
          runSource.shape[1],
        )
      : null;

  return (
    <div className="upscale-run">
      <div className="upscale-buttons">
        <button
          type="button"
          className="primary"
          disabled={!source || status === 'loading'}
          onClick={() => source && startUpscale(source, settings)}
        >
          Upscale
        </button>
        <button
          type="button"
          disabled={!inRun}
          onClick={running ? upscaleCommands.pause : upscaleCommands.resume}
        >
          {running ? 'Pause' : 'Resume'}
        </button>
        <button type="button" disabled={!inRun || running} onClick={upscaleCommands.step}>
          Step
        </button>
        <button type="button" disabled={!canStepBack || running} onClick={upscaleCommands.stepBack}>
          Step back
        </button>
      </div>
      <div className="upscale-views" data-testid="upscale-views">
        {input && (
          <ViewCanvas
            label={`Low-res input${conditioning?.noiseLevel ? ` (noised to s = ${conditioning.noiseLevel})` : ''}`}
            frame={input.frame}
            bytes={input.bytes}
          />
        )}
        <ViewCanvas label="x_t (upscaling)" frame={frame} bytes={frame?.sample ?? null} />
        <ViewCanvas label="Predicted x₀" frame={frame} bytes={frame?.predictedX0 ?? null} />
      </div>
      <div className="timeline">
        <label htmlFor={timelineId}>Upscale timeline</label>
        <input
          id={timelineId}
          type="range"
          min={0}
          max={Math.max(0, frames.length - 1)}
          step={1}
          value={Math.min(current, Math.max(0, frames.length - 1))}
          disabled={frames.length < 2}
          onChange={(e) => showFrame(Number(e.target.value))}
        />
        <output htmlFor={timelineId} className="timeline-count">
          frame {frames.length === 0 ? 0 : current + 1} of {frames.length}
        </output>
      </div>
      <p
        className="upscale-readout"
        data-testid="upscale-readout"
        data-status={status}
        data-model-ms={frame ? frame.modelMs.toFixed(1) : undefined}
        data-batch={frame?.batch}
      >
        {frame
          ? `step ${frame.step} of ${frame.totalSteps} · t = ${frame.timestep} · σ = ${frame.sigma.toFixed(3)} · ${frame.width}×${frame.height}` +
            (frame.step > 0 ? ` · model ${frame.modelMs.toFixed(0)} ms` : '')
          : status === 'loading'
            ? 'Loading the super-resolution model…'
            : 'No upscale yet'}
        {status === 'done' && ' · done'}
      </p>
      {consistency && (
        <p
          className="upscale-consistency"
          data-testid="upscale-consistency"
          data-db={Math.min(...consistency).toFixed(2)}
        >
          Consistency (the result shrunk 2×2 back, against the input):{' '}
          {consistency.map((db) => `${db.toFixed(1)} dB`).join(', ')}
        </p>
      )}
    </div>
  );
}

function ModelCaption() {
  const model = useUpscaleStore((s) => s.model);
  const backend = useUpscaleStore((s) => s.backend);
  const error = useUpscaleStore((s) => s.error);
  return (
    <>
      {error && (
        <p className="upscale-problem" role="alert">
          {error}
        </p>
      )}
      {model && (
        <p className="upscale-caption">
          {model.name}: {model.parameterCount.toLocaleString()} parameters
          {model.trainingSteps !== null &&
            `, ${model.trainingSteps.toLocaleString()} training steps`}
          {model.quality.psnr !== null &&
            `; held-out PSNR ${model.quality.psnr.toFixed(2)} dB (bicubic ${model.quality.bicubicPsnr?.toFixed(2)} dB)`}
          {backend && ` · on ${backend}`}
        </p>
      )}
    </>
  );
}

/** The Upscale panel: one line in App.tsx. */
export function UpscalePanel() {
  return (
    <Panel title="Upscale (cascade: 32×32 → 64×64)" className="upscale-panel">
      <UpscaleBody />
    </Panel>
  );
}

/**
 * Cascade: a main run that finishes hands its image to the SR stage, which starts at once (the
 * second run's conditioning is the first run's output). Only runs that end while it is on.
 */
function useCascade() {
  const cascade = useUpscaleStore((s) => s.cascade);
  useEffect(() => {
    if (!cascade) return;
    return useAppStore.subscribe((state, previous) => {
      if (state.status !== 'done' || previous.status === 'done') return;
      const last = state.frames[state.frames.length - 1] ?? null;
      const source = sourceFromFrame(last, 'Cascade: the run just finished');
      if (!source) return;
      const upscale = useUpscaleStore.getState();
      upscale.set({ source });
      startUpscale(source, upscale.settings);
    });
  }, [cascade]);
}

function CascadeToggle() {
  const cascade = useUpscaleStore((s) => s.cascade);
  const set = useUpscaleStore((s) => s.set);
  return (
    <label className="upscale-cascade">
      <input
        type="checkbox"
        checked={cascade}
        onChange={(e) => {
          if (e.target.checked) ensureUpscaleWorker();
          set({ cascade: e.target.checked });
        }}
      />{' '}
      Cascade: upscale every finished run
    </label>
  );
}

function UpscaleBody() {
  useCascade();
  return (
    <div className="upscale" data-testid="upscale-panel">
      <SourceChooser />
      <CascadeToggle />
      <UpscaleSettingsFields />
      <UpscaleRun />
      <ModelCaption />
    </div>
  );
}
