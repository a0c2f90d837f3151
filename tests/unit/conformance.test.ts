// Every diffusers reference case in tests/conformance/*.json must pass (see FORMAT.md there).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { runCase, type ConformanceCase } from '../../scripts/conformance/runCase';

const dir = join(__dirname, '..', 'conformance');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(files)('%s', (file) => {
  const cases = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ConformanceCase[];
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const before = tf.memory().numTensors;
    const result = runCase(c);
    expect(result.passed, result.detail).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
