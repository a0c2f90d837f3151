// Which image and class the ELBO panel measures (src/components/elbo/elboImage.ts).
import { describe, expect, it } from 'vitest';
import { classFromSourceLabel, pickSample, pickSource } from '../../src/components/elbo/elboImage';
import type { FrameData, ModelInfo } from '../../src/worker/protocol';

const mnist: ModelInfo = {
  id: 'mnist',
  name: 'MNIST',
  classLabels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  nullClassId: 10,
  imageSize: 28,
  channels: 1,
  parameterCount: 1,
};
const fashion: ModelInfo = {
  ...mnist,
  id: 'fashion-mnist',
  classLabels: [
    'T-shirt/top',
    'Trouser',
    'Pullover',
    'Dress',
    'Coat',
    'Sandal',
    'Shirt',
    'Sneaker',
    'Bag',
    'Ankle boot',
  ],
};

describe('classFromSourceLabel', () => {
  it("reads the class of the model's own test examples only", () => {
    expect(classFromSourceLabel('MNIST test #3 (0)', mnist)).toBe(0);
    expect(classFromSourceLabel('MNIST test #3 (7)', { ...mnist, id: 'mnist-linear' })).toBe(7);
    expect(classFromSourceLabel('Fashion-MNIST test #12 (Ankle boot)', fashion)).toBe(9);
    // Another data set's example, an upload, a drawing: no known class.
    expect(classFromSourceLabel('MNIST test #3 (0)', fashion)).toBeNull();
    expect(classFromSourceLabel('Fashion-MNIST test #12 (Ankle boot)', mnist)).toBeNull();
    expect(classFromSourceLabel('Drawing', mnist)).toBeNull();
    expect(classFromSourceLabel(null, mnist)).toBeNull();
  });
});

function frame(bytes: number[], patch: Partial<FrameData> = {}): FrameData {
  const sample = new Uint8Array(2 * 28 * 28);
  sample.set(bytes);
  return {
    runId: 1,
    index: 20,
    step: 20,
    totalSteps: 20,
    timestep: 0,
    sigma: 0,
    batch: 2,
    height: 28,
    width: 28,
    channels: 1,
    sample: sample.buffer,
    predictedX0: null,
    predictedNoise: null,
    modelMs: 0,
    totalMs: 0,
    numTensors: 0,
    numBytes: 0,
    cause: 'final',
    ...patch,
  } as FrameData;
}

describe('pickSample', () => {
  it('takes image 1 of the last frame, bytes to [-1, 1], with the class asked for', () => {
    const picked = pickSample(frame([0, 255, 128]), 4, mnist);
    expect(picked.ok).toBe(true);
    if (!picked.ok) return;
    expect(picked.pixels.length).toBe(784);
    expect(picked.pixels.slice(0, 3)).toEqual([-1, 1, 128 / 127.5 - 1]);
    expect(picked.knownClass).toBe(4);
    expect(picked.description).toBe('generated sample 1 (step 20 of 20)');
    // The null class (an unconditional run) leaves the class unknown.
    const uncond = pickSample(frame([]), 10, mnist);
    expect(uncond.ok && uncond.knownClass).toBeNull();
  });

  it('says why when there is no sample or it has another shape', () => {
    expect(pickSample(null, 0, mnist)).toEqual({
      ok: false,
      problem: 'There is no generated sample yet: press Generate first.',
    });
    const wide = pickSample(frame([], { width: 56 }), 0, mnist);
    expect(wide.ok).toBe(false);
    expect(!wide.ok && wide.problem).toContain('28×56×1');
  });
});

describe('pickSource', () => {
  it('needs a source of the model size', () => {
    expect(pickSource(null, null, mnist).ok).toBe(false);
    const ok = pickSource(new Float32Array(784).fill(-1), 'MNIST test #1 (2)', mnist);
    expect(ok.ok && ok.knownClass).toBe(2);
    const big = pickSource(new Float32Array(784), 'Drawing', { ...mnist, imageSize: 32 });
    expect(!big.ok && big.problem).toContain('takes 32×32×1');
  });
});
