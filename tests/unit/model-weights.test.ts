// Bad model files must fail at load with a message naming the file and the problem, never load
// quietly and draw garbage. Each case damages the shipped MNIST model in one way.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  ModelLoadError,
  decodeWeights,
  loadUNet,
  parseModelCard,
  sha256Hex,
  sha256HexPortable,
  type ModelCard,
} from '../../src/engine/model';
import { decodeFloat16 } from '../../src/engine/model/float16';

const MODEL_DIR = join(__dirname, '..', '..', 'public', 'models', 'mnist');
const cardJson = JSON.parse(readFileSync(join(MODEL_DIR, 'card.json'), 'utf8')) as ModelCard;
const weightBytes = readFileSync(join(MODEL_DIR, cardJson.weights.file));

function freshCard(): ModelCard {
  return structuredClone(cardJson);
}

function freshWeights(): ArrayBuffer {
  return new Uint8Array(weightBytes).buffer as ArrayBuffer;
}

async function loadError(card: ModelCard, weights: ArrayBuffer): Promise<ModelLoadError> {
  try {
    await decodeWeights(parseModelCard(card), weights);
  } catch (err) {
    expect(err).toBeInstanceOf(ModelLoadError);
    return err as ModelLoadError;
  }
  throw new Error('expected the model to be rejected');
}

describe('float16 decoding', () => {
  it('decodes normals, subnormals, zeros, infinities and NaN', () => {
    const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3555];
    const bytes = new Uint8Array(bits.flatMap((b) => [b & 0xff, b >> 8]));
    const values = Array.from(decodeFloat16(bytes.buffer, 0, bits.length));
    expect(values.slice(0, 7)).toEqual([1, -2, 65504, 2 ** -24, -0, Infinity, -Infinity]);
    expect(values[7]).toBeNaN();
    expect(values[8]).toBeCloseTo(1 / 3, 3);
  });
});

describe('sha256', () => {
  it('the portable fallback (for http pages without crypto.subtle) matches WebCrypto', async () => {
    expect(sha256HexPortable(new ArrayBuffer(0))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    for (const length of [3, 55, 56, 63, 64, 65, 1000]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 7919 + length) & 0xff);
      expect(sha256HexPortable(bytes.buffer)).toBe(await sha256Hex(bytes.buffer));
    }
    expect(sha256HexPortable(freshWeights())).toBe(cardJson.weights.sha256);
  });
});

describe('model weight validation', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('accepts the shipped files', async () => {
    const unet = await loadUNet(parseModelCard(freshCard()), freshWeights());
    expect(unet.nullClassId).toBe(cardJson.architecture.num_classes);
    unet.dispose();
  });

  it('rejects a truncated weights file', async () => {
    const err = await loadError(freshCard(), freshWeights().slice(0, 100_000));
    expect(err.file).toBe('weights.bin');
    expect(err.message).toMatch(/is 100000 bytes but card.json says \d+ \(truncated download\?\)/);
  });

  it('rejects a corrupted file by its sha256', async () => {
    const weights = freshWeights();
    new Uint8Array(weights)[1234] ^= 0xff;
    const err = await loadError(freshCard(), weights);
    expect(err.message).toMatch(/^weights.bin: sha256 is [0-9a-f]{64} but card.json says/);
  });

  it('rejects a tensor with the wrong shape', async () => {
    const card = freshCard();
    card.tensors.find((t) => t.name === 'conv_in.weight')!.shape = [32, 3, 3, 3];
    const err = await loadError(card, freshWeights());
    expect(err.file).toBe('card.json');
    expect(err.message).toContain(
      'tensor conv_in.weight has shape [32, 3, 3, 3], but the architecture needs [32, 1, 3, 3]',
    );
  });

  it('rejects a card that lacks a tensor', async () => {
    const card = freshCard();
    card.tensors = card.tensors.filter((t) => t.name !== 'mid_attn.qkv.weight');
    const err = await loadError(card, freshWeights());
    expect(err.message).toBe('card.json: missing tensor mid_attn.qkv.weight (shape [192, 64])');
  });

  it('rejects NaN-filled weights even when the checksum matches', async () => {
    const card = freshCard();
    const weights = freshWeights();
    const target = card.tensors.find((t) => t.name === 'mid_block1.conv1.weight')!;
    const halves = new Uint16Array(weights, target.offset, target.length / 2);
    halves.fill(0x7e00); // float16 NaN
    card.weights.sha256 = await sha256Hex(weights); // a consistent but poisoned export
    const err = await loadError(card, weights);
    expect(err.message).toBe(
      'weights.bin: tensor mid_block1.conv1.weight has a non-finite value (NaN) at index 0',
    );
  });

  it('rejects an unknown dtype in the card', () => {
    const card = freshCard();
    (card.tensors[0] as { dtype: string }).dtype = 'bfloat16';
    expect(() => parseModelCard(card, 'mnist/card.json')).toThrow(
      'mnist/card.json: tensor time_mlp.0.weight: unknown dtype "bfloat16" (expected float16 or float32)',
    );
  });

  it('rejects a card of another format or without an architecture', () => {
    expect(() => parseModelCard({ format: 'something-else' })).toThrow(/unknown card format/);
    expect(() => parseModelCard({ ...freshCard(), architecture: undefined })).toThrow(
      'card.json: missing "architecture" object',
    );
    expect(() => parseModelCard([])).toThrow('card.json: not a JSON object');
  });
});
