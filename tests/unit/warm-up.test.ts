// The throw-away evaluation the worker runs after loading a model (src/engine/model/warmUp.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { loadUNet, parseModelCard, warmUp, type UNet } from '../../src/engine/model';

describe('warmUp', () => {
  let unet: UNet;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    const dir = join(__dirname, '..', '..', 'public', 'models', 'mnist');
    const card = parseModelCard(JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')), 'card');
    const bytes = readFileSync(join(dir, card.weights.file));
    unet = await loadUNet(
      card,
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
    );
  });
  afterAll(() => unet.dispose());

  it('evaluates the model once at the batch asked for and leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const profile = await tf.profile(async () => {
      const ms = await warmUp(unet, 8);
      expect(ms).toBeGreaterThan(0);
    });
    expect(tf.memory().numTensors).toBe(before);
    const convIn = profile.kernels.find((k) => k.name === 'FusedConv2D');
    expect(convIn?.inputShapes[0]).toEqual([8, 28, 28, 1]);
  });

  it('refuses a batch that is not a whole number in range', async () => {
    for (const batch of [0, 1.5, 33, Number.NaN]) {
      await expect(warmUp(unet, batch)).rejects.toThrow(/warm-up batch must be an integer/);
    }
  });
});
