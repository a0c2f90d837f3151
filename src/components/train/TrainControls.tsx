// The Train view's settings: the data set, the network, the noise schedule and the optimiser,
// and how to sample. Changes apply at the next Train (a run keeps the settings it started with).
import { SAMPLER_PRESETS } from '../../engine/samplerPresets';
import { PRESET_DATASETS, PRESET_LABELS, MAX_TEXT_LENGTH } from '../../engine/train/datasets';
import {
  LIMITS,
  TOY_BETA_LABELS,
  TOY_BETA_SCHEDULES,
  TOY_PREDICTION_LABELS,
  TOY_PREDICTIONS,
  type ToyBetaSchedule,
  type ToyModelConfig,
  type ToyPrediction,
  type ToyTrainConfig,
} from '../../engine/train/toyConfig';
import { NumberField } from '../NumberField';
import { useTrainStore, type DataChoice } from './trainStore';

const setModel = (patch: Partial<ToyModelConfig>) =>
  useTrainStore.setState((s) => ({ model: { ...s.model, ...patch } }));
const setTrain = (patch: Partial<ToyTrainConfig>) =>
  useTrainStore.setState((s) => ({ train: { ...s.train, ...patch } }));

export function DataControls() {
  const data = useTrainStore((s) => s.data);
  const text = useTrainStore((s) => s.text);
  return (
    <div className="train-controls">
      <label>
        Data set
        <select
          value={data}
          onChange={(e) => useTrainStore.setState({ data: e.target.value as DataChoice })}
        >
          {PRESET_DATASETS.map((name) => (
            <option key={name} value={name}>
              {PRESET_LABELS[name]}
            </option>
          ))}
          <option value="drawn">Drawing</option>
        </select>
      </label>
      {data === 'text' && (
        <label>
          Text
          <input
            type="text"
            value={text}
            maxLength={MAX_TEXT_LENGTH + 4}
            onChange={(e) => useTrainStore.setState({ text: e.target.value })}
          />
        </label>
      )}
      {data === 'drawn' && (
        <button type="button" onClick={() => useTrainStore.setState({ drawn: [] })}>
          Clear drawing
        </button>
      )}
    </div>
  );
}

export function ModelControls() {
  const model = useTrainStore((s) => s.model);
  const train = useTrainStore((s) => s.train);
  const maxSteps = useTrainStore((s) => s.maxSteps);
  return (
    <div className="train-controls">
      <NumberField
        label="Timesteps"
        value={model.numTrainTimesteps}
        min={LIMITS.numTrainTimesteps[0]}
        max={LIMITS.numTrainTimesteps[1]}
        integer
        onCommit={(v) => setModel({ numTrainTimesteps: v })}
      />
      <label>
        Beta schedule
        <select
          value={model.betaSchedule}
          onChange={(e) => setModel({ betaSchedule: e.target.value as ToyBetaSchedule })}
        >
          {TOY_BETA_SCHEDULES.map((name) => (
            <option key={name} value={name}>
              {TOY_BETA_LABELS[name]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Prediction target
        <select
          value={model.prediction}
          onChange={(e) => setModel({ prediction: e.target.value as ToyPrediction })}
        >
          {TOY_PREDICTIONS.map((name) => (
            <option key={name} value={name}>
              {TOY_PREDICTION_LABELS[name]}
            </option>
          ))}
        </select>
      </label>
      <NumberField
        label="Width"
        value={model.width}
        min={LIMITS.width[0]}
        max={LIMITS.width[1]}
        integer
        onCommit={(v) => setModel({ width: v })}
      />
      <NumberField
        label="Depth"
        value={model.depth}
        min={LIMITS.depth[0]}
        max={LIMITS.depth[1]}
        integer
        onCommit={(v) => setModel({ depth: v })}
      />
      <NumberField
        label="Learning rate"
        value={train.learningRate}
        min={LIMITS.learningRate[0]}
        max={LIMITS.learningRate[1]}
        step={0.0001}
        onCommit={(v) => setTrain({ learningRate: v })}
      />
      <NumberField
        label="Batch size"
        value={train.batchSize}
        min={LIMITS.batchSize[0]}
        max={LIMITS.batchSize[1]}
        integer
        onCommit={(v) => setTrain({ batchSize: v })}
      />
      <NumberField
        label="Weight EMA"
        value={train.emaDecay}
        min={LIMITS.emaDecay[0]}
        max={LIMITS.emaDecay[1]}
        step={0.001}
        onCommit={(v) => setTrain({ emaDecay: v })}
      />
      <NumberField
        label="Training steps"
        value={maxSteps}
        min={1}
        max={1_000_000}
        integer
        onCommit={(v) => useTrainStore.setState({ maxSteps: v })}
      />
    </div>
  );
}

export function SamplerControls() {
  const sampler = useTrainStore((s) => s.sampler);
  const steps = useTrainStore((s) => s.sampleSteps);
  const particles = useTrainStore((s) => s.particles);
  const timesteps = useTrainStore((s) => s.model.numTrainTimesteps);
  return (
    <div className="train-controls">
      <label>
        Sampler
        <select
          value={sampler}
          onChange={(e) => useTrainStore.setState({ sampler: e.target.value })}
        >
          {SAMPLER_PRESETS.map((p) => (
            <option key={p.name} value={p.name}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      <NumberField
        label="Sampling steps"
        value={steps}
        min={1}
        max={timesteps}
        integer
        onCommit={(v) => useTrainStore.setState({ sampleSteps: v })}
      />
      <NumberField
        label="Particles"
        value={particles}
        min={100}
        max={10000}
        integer
        onCommit={(v) => useTrainStore.setState({ particles: v })}
      />
    </div>
  );
}
