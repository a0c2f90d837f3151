// The worker's model loader against broken model folders, served by a fake fetch from the shipped
// MNIST files with one thing wrong each time: every failure must be a ModelLoadError naming the
// file and the problem, before anything is built. And the bytes kept for a lost GPU device must
// rebuild the same network.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ModelLoadError, type ModelCard } from '../../src/engine/model';
import { resetBackend } from '../../src/engine/backend';
import { MAX_CARD_BYTES, loadWorkerModel } from '../../src/worker/modelLoader';

const MODEL_DIR = join(__dirname, '..', '..', 'public', 'models', 'mnist');
const BASE = 'http://app.test/models/mnist/';
const CARD_URL = `${BASE}card.json`;
const WEIGHTS_URL = `${BASE}weights.bin`;
const shippedCard = JSON.parse(readFileSync(join(MODEL_DIR, 'card.json'), 'utf8')) as ModelCard;
const shippedWeights = new Uint8Array(readFileSync(join(MODEL_DIR, 'weights.bin')));

interface Served {
  body: Uint8Array;
  /** Content-Length to send; undefined: none (a streamed or compressed response). */
  length?: number;
  type?: string;
}

/** Serves the model folder from memory; anything else is a 404. */
function serve(files: Record<string, Served>) {
  const requested: string[] = [];
  vi.stubGlobal('fetch', async (input: string) => {
    requested.push(String(input));
    const file = files[String(input)];
    if (!file) return new Response('not found', { status: 404, statusText: 'Not Found' });
    const headers = new Headers();
    if (file.length !== undefined) headers.set('content-length', String(file.length));
    if (file.type) headers.set('content-type', file.type);
    return new Response(new Blob([file.body as Uint8Array<ArrayBuffer>]).stream(), { headers });
  });
  return requested;
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function folder(
  card: ModelCard = shippedCard,
  weights: Uint8Array = shippedWeights,
): Record<string, Served> {
  return {
    [CARD_URL]: { body: json(card) },
    [WEIGHTS_URL]: { body: weights, length: weights.byteLength },
  };
}

async function loadError(id = 'mnist'): Promise<ModelLoadError> {
  try {
    const model = await loadWorkerModel(id, BASE, () => {});
    model.dispose();
  } catch (err) {
    expect(err).toBeInstanceOf(ModelLoadError);
    return err as ModelLoadError;
  }
  throw new Error('expected the model to be refused');
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('model folders that must be refused', () => {
  it('a weights file with an Infinity whose checksum matches (a consistent but broken export)', async () => {
    const weights = shippedWeights.slice();
    const target = shippedCard.tensors.find((t) => t.name === 'conv_out.weight')!;
    new DataView(weights.buffer).setUint16(target.offset + 6, 0x7c00, true); // float16 +Inf
    const card = structuredClone(shippedCard);
    card.weights.sha256 = sha256(weights);
    serve(folder(card, weights));
    const err = await loadError();
    expect(err.file).toBe(WEIGHTS_URL);
    expect(err.problem).toBe('tensor conv_out.weight has a non-finite value (Infinity) at index 3');
  });

  it('a NaN-filled tensor whose checksum matches', async () => {
    const weights = shippedWeights.slice();
    const target = shippedCard.tensors.find((t) => t.name === 'time_mlp.0.bias')!;
    new Uint16Array(weights.buffer, target.offset, target.length / 2).fill(0x7e00);
    const card = structuredClone(shippedCard);
    card.weights.sha256 = sha256(weights);
    serve(folder(card, weights));
    expect((await loadError()).message).toBe(
      `${WEIGHTS_URL}: tensor time_mlp.0.bias has a non-finite value (NaN) at index 0`,
    );
  });

  it('a truncated download', async () => {
    const half = shippedWeights.slice(0, 1_000_000);
    serve(folder(shippedCard, half));
    const err = await loadError();
    expect(err.file).toBe(WEIGHTS_URL);
    expect(err.problem).toBe(
      `is 1000000 bytes but ${CARD_URL} says ${shippedCard.weights.byte_length} (truncated download?)`,
    );
  });

  it('a weights file longer than the card says, declared or streamed, is not read to the end', async () => {
    const longer = new Uint8Array(shippedWeights.byteLength + 10);
    longer.set(shippedWeights);
    const files = folder(shippedCard, longer);
    serve(files);
    expect((await loadError()).problem).toBe(
      `is ${longer.byteLength} bytes but ${CARD_URL} says ${shippedCard.weights.byte_length}`,
    );
    delete files[WEIGHTS_URL].length; // no Content-Length: caught while streaming
    serve(files);
    expect((await loadError()).problem).toBe(
      `is more than ${shippedCard.weights.byte_length} bytes but ${CARD_URL} says ${shippedCard.weights.byte_length}`,
    );
  });

  it('weights from another export (sha256 and byte length in the card do not match)', async () => {
    const flipped = shippedWeights.slice();
    flipped[4321] ^= 0x40;
    serve(folder(shippedCard, flipped));
    const err = await loadError();
    expect(err.file).toBe(WEIGHTS_URL);
    expect(err.problem).toMatch(/^sha256 is [0-9a-f]{64} but .*card\.json says [0-9a-f]{64} /);

    const card = structuredClone(shippedCard);
    card.weights.byte_length += 2;
    serve(folder(card));
    expect((await loadError()).problem).toBe(
      `is ${shippedWeights.byteLength} bytes but ${CARD_URL} says ${card.weights.byte_length} (truncated download?)`,
    );
  });

  it('a card whose architecture does not fit the weights (wrong-shaped tensors)', async () => {
    const card = structuredClone(shippedCard);
    card.architecture.base_channels = 64;
    card.architecture.embed_dim = 256;
    serve(folder(card));
    const err = await loadError();
    expect(err.file).toBe(CARD_URL);
    expect(err.problem).toMatch(/^tensor \S+ has shape \[[\d, ]+\], but the architecture needs/);
  });

  it('a card whose tensors share bytes', async () => {
    const card = structuredClone(shippedCard);
    const a = card.tensors.find((t) => t.name === 'conv_in.bias')!;
    const b = card.tensors.find((t) => t.name === 'conv_out.bias')!;
    b.offset = a.offset + a.length - 2; // its 2 bytes now alias conv_in.bias's last value
    serve(folder(card));
    const err = await loadError();
    expect(err.file).toBe(CARD_URL);
    expect(err.problem).toMatch(/^tensors \S+ and \S+ overlap at bytes \d+\.\.\d+$/);
  });

  it('a card of another model, or naming a weights file outside its folder', async () => {
    serve(folder());
    const err = await loadError('fashion-mnist');
    expect(err.file).toBe(CARD_URL);
    expect(err.problem).toBe(
      'is the card of model "mnist", but the model list names it "fashion-mnist"',
    );

    const card = structuredClone(shippedCard);
    card.weights.file = '../fashion-mnist/weights.bin';
    const requested = serve(folder(card));
    expect((await loadError()).problem).toBe(
      'weights.file "../fashion-mnist/weights.bin" must be a file name in the model\'s folder',
    );
    expect(requested).toEqual([CARD_URL]);
  });

  it('a model the list names but whose folder is missing, a card that is not JSON, a huge card', async () => {
    serve({});
    expect((await loadError()).message).toBe(`${CARD_URL}: HTTP 404 Not Found`);

    serve({ [CARD_URL]: { body: new TextEncoder().encode('<html>oops</html>') } });
    const notJson = await loadError();
    expect(notJson.file).toBe(CARD_URL);
    expect(notJson.problem).toMatch(/^is not valid JSON \(/);

    // A single-page host answers a missing file with its index.html, status 200.
    const page = new TextEncoder().encode('<!doctype html><title>app</title>');
    serve({ [CARD_URL]: { body: page, type: 'text/html; charset=utf-8' } });
    expect((await loadError()).message).toBe(
      `${CARD_URL}: is an HTML page, not a model file (is the model missing here?)`,
    );

    const huge = new Uint8Array(MAX_CARD_BYTES + 1);
    serve({ [CARD_URL]: { body: huge, length: huge.byteLength } });
    expect((await loadError()).problem).toBe(
      `is ${huge.byteLength} bytes; a model card is at most ${MAX_CARD_BYTES}`,
    );
  });
});

describe('the weights kept for a lost device', () => {
  it('rebuild the same network on a fresh backend, under the same RunModel', async () => {
    serve(folder());
    const progress: number[] = [];
    const model = await loadWorkerModel('mnist', BASE, (loaded) => progress.push(loaded));
    expect(progress.at(-1)).toBe(shippedWeights.byteLength);
    expect(model.info).toMatchObject({ id: 'mnist', imageSize: 28, channels: 1, nullClassId: 10 });

    const predict = async () => {
      const x = tf.tidy(() => tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 7));
      const out = model.runModel.denoiser.predict(x as tf.Tensor4D, [500, 20], [3, 10]);
      const values = Array.from(await out.data());
      tf.dispose([x, out]);
      return values;
    };
    const before = await predict();

    // What the worker does after a lost device: drop the tensors and the backend, start again.
    model.releaseTensors();
    resetBackend('cpu');
    await tf.setBackend('cpu');
    expect(tf.memory().numTensors).toBe(0);
    vi.unstubAllGlobals();
    vi.stubGlobal('fetch', () => Promise.reject(new Error('no network after load')));
    await model.rebuild();
    expect(await predict()).toEqual(before);
    model.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });
});
