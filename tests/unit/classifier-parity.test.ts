// The browser noisy-image classifier (src/engine/model/noisyClassifier.ts) against PyTorch
// (training/train_noisy_classifier.py) on fixed inputs, for every tests/fixtures/
// parity-<id>-classifier.json that exists: the training script writes the shipped weights and,
// with the same float16-rounded weights, the PyTorch logits on fixed (x_t, t). This test loads the
// shipped files the way the app will and must reproduce those logits; then it damages them.
//
// Tolerance: max |tfjs - torch| <= 1e-3 over every logit. Both sides read the same float16 weights
// widened to float32 and compute in float32, so the only differences are the summation order inside
// convs, matmuls, GroupNorm moments and the spatial mean (about 1e-6 to 1e-5 on logits of size ~1-8).
// A port error (kernel not transposed, wrong padding of the stride-2 convs, embedding in the wrong
// place, sin/cos halves swapped) moves logits by O(0.1-1). 1e-3 is ~100x above rounding and far
// below anything that changes a class probability that guidance would notice (softmax changes by
// at most ~1e-3 relative). The argmax must match too, so the class the classifier picks is the same.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core registers no gradients by itself; guidance will need this import wherever it runs.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import {
  parseClassifierCard,
  type NoisyClassifierCard,
} from '../../src/engine/model/classifierCard';
import { ModelLoadError } from '../../src/engine/model/errors';
import { fetchNoisyClassifier } from '../../src/engine/model/fetchClassifier';
import {
  classifierTensorShapes,
  loadNoisyClassifier,
  type NoisyClassifier,
} from '../../src/engine/model/noisyClassifier';
import { sha256Hex } from '../../src/engine/model/sha256';

const TOLERANCE = 1e-3;
const ROOT = join(__dirname, '..', '..');
const MODELS_DIR = join(ROOT, 'public', 'models');
const FIXTURES_DIR = join(ROOT, 'tests', 'fixtures');
// Globbed, so a newly trained classifier (e.g. fashion-mnist-classifier) is checked as soon as its
// fixture lands.
const CLASSIFIER_IDS = readdirSync(FIXTURES_DIR)
  .map((name) => /^parity-(.+-classifier)\.json$/.exec(name)?.[1])
  .filter((id): id is string => id !== undefined)
  .sort();

interface ClassifierFixture {
  model_id: string;
  layout: 'NHWC';
  x_t_shape: [number, number, number, number];
  x_t: number[];
  timesteps: number[];
  logits_shape: [number, number];
  logits: number[];
}

function readFixture(id: string): ClassifierFixture {
  return JSON.parse(
    readFileSync(join(FIXTURES_DIR, `parity-${id}.json`), 'utf8'),
  ) as ClassifierFixture;
}

function readCardJson(id: string): NoisyClassifierCard {
  return JSON.parse(readFileSync(join(MODELS_DIR, id, 'card.json'), 'utf8')) as NoisyClassifierCard;
}

function readWeights(id: string, file: string): ArrayBuffer {
  return new Uint8Array(readFileSync(join(MODELS_DIR, id, file))).buffer as ArrayBuffer;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function argmaxRows(values: ArrayLike<number>, classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < values.length / classes; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (values[r * classes + c] > values[r * classes + best]) best = c;
    }
    out.push(best);
  }
  return out;
}

it('has at least one shipped classifier with a parity fixture', () => {
  expect(CLASSIFIER_IDS).toContain('mnist-classifier');
  for (const id of CLASSIFIER_IDS) expect(existsSync(join(MODELS_DIR, id, 'card.json'))).toBe(true);
});

// cpu is the reference JS kernels; wasm is what the app runs on machines without a real GPU.
const BACKENDS = ['cpu', 'wasm'] as const;
const CASES = CLASSIFIER_IDS.flatMap((id) => BACKENDS.map((backend) => [id, backend] as const));

describe.each(CASES)('noisy classifier parity with PyTorch: %s on %s', (id, backend) => {
  const fixture = readFixture(id);
  const card = parseClassifierCard(readCardJson(id), `${id}/card.json`);
  let classifier: NoisyClassifier;

  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    // Also verifies size, sha256, every tensor's shape, finite values and the parameter count.
    classifier = await loadNoisyClassifier(card, readWeights(id, card.weights.file));
  });
  afterAll(() => classifier?.dispose());

  it('is the fixture of this model', () => {
    expect(fixture.model_id).toBe(id);
    expect(fixture.logits_shape).toEqual([fixture.x_t_shape[0], card.architecture.num_classes]);
  });

  it(`matches the PyTorch logits within ${TOLERANCE} and picks the same classes`, () => {
    const x = tf.tensor4d(fixture.x_t, fixture.x_t_shape);
    const logits = classifier.logits(x, fixture.timesteps);
    expect(logits.shape).toEqual(fixture.logits_shape);
    const values = logits.dataSync();
    const diff = maxAbsDiff(values, fixture.logits);
    console.log(
      `[classifier parity ${id} ${backend}] max |tfjs - torch| = ${diff.toExponential(2)} ` +
        `(tolerance ${TOLERANCE}, t = ${fixture.timesteps.join(', ')})`,
    );
    expect(diff).toBeLessThanOrEqual(TOLERANCE);
    const classes = card.architecture.num_classes;
    expect(argmaxRows(values, classes)).toEqual(argmaxRows(fixture.logits, classes));
    tf.dispose([x, logits]);
  });

  it('gives each sample its own timestep (a batch equals its rows run one by one)', () => {
    const [n, h, w, c] = fixture.x_t_shape;
    const x = tf.tensor4d(fixture.x_t, fixture.x_t_shape);
    const batch = classifier.logits(x, fixture.timesteps).dataSync();
    for (let i = 0; i < n; i++) {
      const row = tf.slice(x, [i, 0, 0, 0], [1, h, w, c]);
      const single = classifier.logits(row, fixture.timesteps[i]);
      const classes = card.architecture.num_classes;
      expect(
        maxAbsDiff(single.dataSync(), batch.slice(i * classes, (i + 1) * classes)),
      ).toBeLessThan(1e-4);
      tf.dispose([row, single]);
    }
    x.dispose();
  });

  it('does not leak tensors', () => {
    const [, h, w, c] = fixture.x_t_shape;
    const x = tf.zeros([2, h, w, c]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    tf.dispose(classifier.logits(x, [10, 600.25]));
    tf.dispose(classifier.logits(x, tf.tensor1d([3, 4]))); // the tensor form is read, not kept
    expect(tf.memory().numTensors).toBe(before + 1); // only the caller's tensor1d above
    x.dispose();
  });
});

describe('noisy classifier: differentiable in x (what classifier guidance will need)', () => {
  const id = 'mnist-classifier';
  let classifier: NoisyClassifier;
  beforeAll(async () => {
    expect(await tf.setBackend('cpu')).toBe(true);
    const card = parseClassifierCard(readCardJson(id));
    classifier = await loadNoisyClassifier(card, readWeights(id, card.weights.file));
  });
  afterAll(() => classifier?.dispose());

  it('tf.grad of a log-probability matches a central finite difference', () => {
    const fixture = readFixture(id);
    const [, h, w, c] = fixture.x_t_shape;
    const x = tf.tensor4d(fixture.x_t.slice(0, h * w * c), [1, h, w, c]);
    const t = fixture.timesteps[1];
    const target = 3;
    const logProb = (z: tf.Tensor4D): tf.Scalar =>
      tf.tidy(() => tf.sum(tf.gather(tf.logSoftmax(classifier.logits(z, t)), [target], 1)));
    const grad = tf.grad((z: tf.Tensor) => logProb(z as tf.Tensor4D))(x);
    expect(grad.shape).toEqual(x.shape);
    // Directional derivative along a fixed direction v: <grad, v> vs (f(x + e v) - f(x - e v)) / 2e.
    const v = tf.tensor4d(
      Float32Array.from({ length: h * w * c }, (_, i) => Math.sin(i * 12.9898) * 0.5),
      [1, h, w, c],
    );
    const e = 1e-2;
    const [plus, minus] = tf.tidy(() => [
      tf.add(x, tf.mul(v, e)),
      tf.sub(x, tf.mul(v, e)),
    ]) as tf.Tensor4D[];
    const scalars = [logProb(plus), logProb(minus), tf.sum(tf.mul(grad, v))];
    const [fPlus, fMinus, analytic] = scalars.map((s) => s.dataSync()[0]);
    const numeric = (fPlus - fMinus) / (2 * e);
    expect(Math.abs(analytic)).toBeGreaterThan(1e-3); // a zero gradient would pass trivially
    expect(Math.abs(numeric - analytic)).toBeLessThan(0.02 * Math.abs(analytic) + 1e-3);
    tf.dispose([x, grad, v, plus, minus, ...scalars]);
  });
});

describe('noisy classifier: damaged or mismatched files are refused, naming the file', () => {
  const id = 'mnist-classifier';
  const names = { cardFile: `${id}/card.json`, weightsFile: `${id}/weights.bin` };
  const freshCard = (): NoisyClassifierCard => structuredClone(readCardJson(id));
  const freshWeights = () => readWeights(id, 'weights.bin');

  beforeAll(async () => {
    expect(await tf.setBackend('cpu')).toBe(true);
  });

  async function loadError(card: unknown, weights: ArrayBuffer): Promise<ModelLoadError> {
    const before = tf.memory().numTensors;
    try {
      await loadNoisyClassifier(parseClassifierCard(card, names.cardFile), weights, names);
    } catch (err) {
      expect(err).toBeInstanceOf(ModelLoadError);
      expect(tf.memory().numTensors).toBe(before); // nothing half-built is left behind
      return err as ModelLoadError;
    }
    throw new Error('expected the classifier to be rejected');
  }

  it('refuses a weights file with one byte flipped (sha256)', async () => {
    const weights = freshWeights();
    new Uint8Array(weights)[4321] ^= 0x01;
    const err = await loadError(freshCard(), weights);
    expect(err.file).toBe(names.weightsFile);
    expect(err.message).toMatch(
      /^mnist-classifier\/weights\.bin: sha256 is [0-9a-f]{64} but mnist-classifier\/card\.json says/,
    );
  });

  it('refuses a truncated weights file', async () => {
    const err = await loadError(freshCard(), freshWeights().slice(0, 200_000));
    expect(err.file).toBe(names.weightsFile);
    expect(err.message).toContain('is 200000 bytes but mnist-classifier/card.json says 483988');
    expect(err.message).toContain('truncated download?');
  });

  it("refuses another model's weights file (the U-Net's)", async () => {
    const unetWeights = new Uint8Array(readFileSync(join(MODELS_DIR, 'mnist', 'weights.bin')));
    const err = await loadError(freshCard(), unetWeights.buffer as ArrayBuffer);
    expect(err.file).toBe(names.weightsFile);
    expect(err.message).toMatch(/is \d+ bytes but mnist-classifier\/card\.json says 483988$/);
  });

  it('refuses a card whose tensor shape does not match the architecture', async () => {
    const card = freshCard();
    card.tensors.find((t) => t.name === 'head.weight')!.shape = [10, 32];
    const err = await loadError(card, freshWeights());
    expect(err.message).toBe(
      'mnist-classifier/card.json: tensor head.weight has shape [10, 32], ' +
        'but the architecture needs [10, 64]',
    );
  });

  it('refuses a card whose architecture does not match its weights', async () => {
    const card = freshCard();
    card.architecture.channels = [32, 48];
    const err = await loadError(card, freshWeights());
    expect(err.file).toBe(names.cardFile);
    expect(err.message).toMatch(/parameter_count is 241994, but the architecture has \d+/);
    // With a consistent count, the first tensor that differs is named instead.
    card.parameter_count = [...classifierTensorShapes(card.architecture).values()].reduce(
      (sum, shape) => sum + shape.reduce((a, b) => a * b, 1),
      0,
    );
    const again = await loadError(card, freshWeights());
    expect(again.message).toBe(
      'mnist-classifier/card.json: tensor down1.weight has shape [64, 32, 3, 3], ' +
        'but the architecture needs [48, 32, 3, 3]',
    );
  });

  it('refuses a card that lacks a tensor', async () => {
    const card = freshCard();
    card.tensors = card.tensors.filter((t) => t.name !== 'block3.emb_proj.weight');
    const err = await loadError(card, freshWeights());
    expect(err.message).toBe(
      'mnist-classifier/card.json: missing tensor block3.emb_proj.weight (shape [64, 128])',
    );
  });

  it('refuses NaN weights even when the checksum matches', async () => {
    const card = freshCard();
    const weights = freshWeights();
    const target = card.tensors.find((t) => t.name === 'block2.conv2.weight')!;
    new Uint16Array(weights, target.offset, target.length / 2).fill(0x7e00); // float16 NaN
    card.weights.sha256 = await sha256Hex(weights); // a consistent but poisoned export
    const err = await loadError(card, weights);
    expect(err.message).toBe(
      'mnist-classifier/weights.bin: tensor block2.conv2.weight has a non-finite value (NaN) at index 0',
    );
  });

  it('refuses malformed cards with the field that is wrong', () => {
    const parse = (card: unknown) => () => parseClassifierCard(card, names.cardFile);
    expect(parse([])).toThrow('mnist-classifier/card.json: not a JSON object');
    expect(parse({ ...freshCard(), format: 'diffusion-playground/unet-card@1' })).toThrow(
      /unknown card format "diffusion-playground\/unet-card@1" \(expected "diffusion-playground\/noisy-classifier-card@1"\)/,
    );
    // A U-Net card is not a classifier card.
    expect(parse(JSON.parse(readFileSync(join(MODELS_DIR, 'mnist', 'card.json'), 'utf8')))).toThrow(
      ModelLoadError,
    );
    const card = freshCard();
    card.architecture.downsample = 'avgpool2';
    expect(parse(card)).toThrow(
      'mnist-classifier/card.json: architecture.downsample is "avgpool2"; this port supports "conv3x3-stride2-pad1"',
    );
    const wrongInput = freshCard();
    wrongInput.io.input_shape = [null, 32, 32, 1];
    expect(parse(wrongInput)).toThrow(
      'io.input_shape is [null,32,32,1], but the architecture reads [null,28,28,1]',
    );
    const wrongLabels = freshCard();
    wrongLabels.class_labels = wrongLabels.class_labels.slice(0, 9);
    expect(parse(wrongLabels)).toThrow('class_labels must list 10 labels');
    const wrongDtype = freshCard();
    (wrongDtype.tensors[0] as { dtype: string }).dtype = 'bfloat16';
    expect(parse(wrongDtype)).toThrow(
      'tensor time_mlp.0.weight: unknown dtype "bfloat16" (expected float16 or float32)',
    );
  });

  it('refuses inputs of the wrong shape or with bad timesteps, with a message', async () => {
    const classifier = await loadNoisyClassifier(parseClassifierCard(freshCard()), freshWeights());
    const wrong = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
    expect(() => classifier.logits(wrong, 0)).toThrow(
      'NoisyClassifier input must be [N, 28, 28, 1], got [1,32,32,1]',
    );
    const x = tf.zeros([2, 28, 28, 1]) as tf.Tensor4D;
    expect(() => classifier.logits(x, [1, 2, 3])).toThrow('got 3 timesteps for a batch of 2');
    expect(() => classifier.logits(x, [1, NaN])).toThrow('timestep 1 is NaN');
    classifier.dispose();
    expect(() => classifier.logits(x, 0)).toThrow('after dispose()');
    tf.dispose([wrong, x]);
  });

  it('fetchNoisyClassifier loads the folder and names the URL of a missing file', async () => {
    // Serves public/ as a static server would, so the loader's fetch path runs for real.
    const served: typeof fetch = async (input) => {
      const path = join(ROOT, 'public', String(input).replace(/^https:\/\/app\.test\//, ''));
      if (!existsSync(path))
        return new Response('not found', { status: 404, statusText: 'Not Found' });
      return new Response(readFileSync(path));
    };
    const { card, classifier } = await fetchNoisyClassifier(
      'https://app.test/models/mnist-classifier',
      served,
    );
    expect(card.id).toBe(id);
    expect(classifier.numClasses).toBe(10);
    classifier.dispose();
    await expect(fetchNoisyClassifier('https://app.test/models/nope', served)).rejects.toThrow(
      'https://app.test/models/nope/card.json: HTTP 404 Not Found',
    );
  });
});
