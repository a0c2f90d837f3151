// A step's read-back: one packed transfer on GPU backends must give each tensor its own values.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readBack, readBackPackedSync, readBackSync } from '../../src/engine/run/readBack';

describe('readBack', () => {
  it('splits a packed read into the tensors, in order, each with its own buffer', async () => {
    await tf.setBackend('cpu');
    const a = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const b = tf.tensor2d([5, 6, 7, 8, 9, 10], [2, 3]);
    const c = tf.scalar(11);
    const before = tf.memory().numTensors;
    const packed = readBackPackedSync([a, b, c]);
    expect(packed.map((v) => Array.from(v))).toEqual([[1, 2, 3, 4], [5, 6, 7, 8, 9, 10], [11]]);
    expect(new Set(packed.map((v) => v.buffer)).size).toBe(3);
    expect(tf.memory().numTensors).toBe(before); // the packed tensor is freed
    const direct = readBackSync([a, b, c]).map((v) => Array.from(v));
    const async = (await readBack([a, b, c])).map((v) => Array.from(v));
    expect(direct).toEqual(packed.map((v) => Array.from(v)));
    expect(async).toEqual(direct);
    tf.dispose([a, b, c]);
  });
});
