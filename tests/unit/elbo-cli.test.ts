// `npm run nll`: its options and the test set it reads (scripts/lib/nllOptions.ts, testSet.ts).
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../scripts/lib/generate';
import { NLL_DEFAULTS, parseNllArgs } from '../../scripts/lib/nllOptions';
import { TestSetError, loadTestSet, pickIndices } from '../../scripts/lib/testSet';

describe('parseNllArgs', () => {
  it('reads every option', () => {
    const o = parseNllArgs(
      ['--model', 'mnist-linear', '--count', '1000', '--seed=3', '--timesteps', '50'].concat([
        '--noise-seed',
        '9',
        '--unconditional',
        '--no-clip',
        '--batch',
        '64',
        '--backend',
        'cpu',
      ]),
    );
    expect(o).toEqual({
      ...NLL_DEFAULTS,
      model: 'mnist-linear',
      count: 1000,
      seed: 3,
      noiseSeed: 9,
      timesteps: 50,
      unconditional: true,
      clipDenoised: false,
      batch: 64,
      backend: 'cpu',
    });
    expect(parseNllArgs(['--timesteps', 'all'])).toMatchObject({ timesteps: 'all' });
    expect(parseNllArgs(['--help'])).toBe('help');
  });

  it('refuses bad values with a message', () => {
    expect(() => parseNllArgs(['--timesteps', '0'])).toThrow(UsageError);
    expect(() => parseNllArgs(['--count', '1.5'])).toThrow(/--count must be a whole number/);
    expect(() => parseNllArgs(['--backend', 'webgpu'])).toThrow(/wasm or cpu/);
    expect(() => parseNllArgs(['--frobnicate', '1'])).toThrow(/unknown option --frobnicate/);
    expect(() => parseNllArgs(['--seed'])).toThrow(/--seed needs a value/);
  });
});

describe('the test set', () => {
  it('reads the MNIST test IDX files: 10,000 28x28 images with labels 0-9', () => {
    const set = loadTestSet('mnist');
    expect([set.count, set.height, set.width]).toEqual([10000, 28, 28]);
    expect(set.pixels.length).toBe(10000 * 784);
    // Test image 0 is a 7, test image 3 a 0 (the examples the e2e tests pick).
    expect(set.labels[0]).toBe(7);
    expect(set.labels[3]).toBe(0);
    expect(Math.max(...set.labels)).toBe(9);
  });

  it('names what it looked for when a data set is unknown', () => {
    expect(() => loadTestSet('cifar10')).toThrow(TestSetError);
    expect(() => loadTestSet('cifar10')).toThrow(/known: mnist, fashion-mnist/);
  });

  it('picks distinct images, the same ones for the same seed', () => {
    const a = pickIndices(10000, 1000, 0);
    expect(new Set(a).size).toBe(1000);
    expect(a.every((i) => i >= 0 && i < 10000)).toBe(true);
    expect(pickIndices(10000, 1000, 0)).toEqual(a);
    expect(pickIndices(10000, 1000, 1)).not.toEqual(a);
    // A smaller count is a prefix: --count 100 measures the first 100 of --count 1000.
    expect(pickIndices(10000, 100, 0)).toEqual(a.slice(0, 100));
    expect(() => pickIndices(10, 11, 0)).toThrow(/has 10/);
  });
});
