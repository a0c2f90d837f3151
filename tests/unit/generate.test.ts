// The headless generation pipeline (scripts/lib/generate.ts, behind `npm run generate`), run
// in-process on the cpu backend with the shipped MNIST weights: 1 image, 2 steps.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  DEFAULT_OPTIONS,
  UsageError,
  generate,
  parseGenerateArgs,
  promptSampleFileName,
  sampleFileName,
  type GenerateOptions,
} from '../../scripts/lib/generate';
import { decodePng } from '../../scripts/lib/pngRgb';

const ROOT = join(__dirname, '..', '..');
const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'generate-test-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function pngSize(file: string): [number, number] {
  const png = readFileSync(file);
  expect(png.toString('ascii', 12, 16)).toBe('IHDR');
  expect(png[24]).toBe(8); // bit depth
  expect(png[25]).toBe(0); // grayscale
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

describe('parseGenerateArgs', () => {
  it('reads every option', () => {
    const o = parseGenerateArgs(
      ['--model', 'mnist', '--class', '3', '--count', '64', '--sampler', 'DPM++ 2M Karras'].concat(
        ['--steps', '20', '--guidance', '2.5', '--seed', '1', '--eta', '0.5', '--spacing'],
        ['trailing', '--schedule=karras', '--batch', '8', '--backend', 'cpu', '--out', 'x'],
      ),
    );
    expect(o).toMatchObject({
      model: 'mnist',
      classes: [3],
      allClasses: false,
      count: 64,
      sampler: 'DPM++ 2M Karras',
      steps: 20,
      guidance: 2.5,
      seed: 1,
      eta: 0.5,
      spacing: 'trailing',
      schedule: 'karras',
      batch: 8,
      backend: 'cpu',
      out: 'x',
    });
    expect(parseGenerateArgs(['--class', 'all', '--out', 'y'])).toMatchObject({
      allClasses: true,
      ...DEFAULT_OPTIONS,
    });
  });

  it('explains bad arguments', () => {
    const bad = (args: string[]) => () => parseGenerateArgs(['--out', 'd', ...args]);
    expect(bad(['--sampler', 'Euler b'])).toThrow(
      /unknown sampler 'Euler b'; valid names: .*"DPM\+\+ 2M"/,
    );
    expect(bad(['--steps', '0'])).toThrow(/--steps must be from 1 to 1000/);
    expect(bad(['--steps', '2.5'])).toThrow(/whole number/);
    expect(bad(['--batch', '65'])).toThrow(/--batch must be from 1 to 64/);
    expect(bad(['--schedule', 'cosine'])).toThrow(/default, karras, exponential/);
    expect(bad(['--backend', 'webgpu'])).toThrow(/wasm or cpu/);
    expect(bad(['--frobnicate', '1'])).toThrow(UsageError);
    expect(() => parseGenerateArgs(['--class', '3'])).toThrow(/--out DIR is required/);
  });

  it('names samples <index>_c<class>_.png', () => {
    expect(sampleFileName(0, 3)).toBe('0000_c3_.png');
    expect(sampleFileName(12345, 9)).toBe('12345_c9_.png');
  });

  it('reads a prompt and a negative prompt; names text-to-image samples <index>_.png', () => {
    const o = parseGenerateArgs(
      ['--model', 'emoji', '--prompt', 'cat face', '--negative-prompt=grey'].concat(['--out', 'd']),
    );
    expect(o).toMatchObject({ model: 'emoji', prompt: 'cat face', negativePrompt: 'grey' });
    expect(parseGenerateArgs(['--out', 'd'])).toMatchObject({ prompt: null, negativePrompt: '' });
    expect(promptSampleFileName(7)).toBe('0007_.png');
  });
});

describe('generate on the cpu backend with the shipped MNIST weights', () => {
  it('writes one 28x28 grayscale PNG per image, a sheet and a record', async () => {
    const out = scratch();
    const options = { ...DEFAULT_OPTIONS, classes: [3], allClasses: false, out };
    const result = await generate({
      ...options,
      modelsDir: join(ROOT, 'public', 'models'),
      count: 1,
      steps: 2,
      guidance: 1, // one model call per step
      seed: 5,
      backend: 'cpu',
      bench: false,
    });
    expect(result.backend).toBe('cpu');
    expect(readdirSync(out).sort()).toEqual(['0000_c3_.png', 'generate.json', 'sheet.png']);
    expect(pngSize(join(out, '0000_c3_.png'))).toEqual([28, 28]);
    expect(pngSize(join(out, 'sheet.png'))).toEqual([32, 32]); // 1 cell + 2 px gaps
    const record = JSON.parse(readFileSync(join(out, 'generate.json'), 'utf8'));
    const card = JSON.parse(readFileSync(join(ROOT, 'public/models/mnist/card.json'), 'utf8'));
    expect(record.model.sha256).toBe(card.weights.sha256);
    expect(record.images).toEqual([{ file: '0000_c3_.png', index: 0, classId: 3, seed: 5 }]);
    expect(record.runCalls).toEqual([expect.objectContaining({ batch: 1, calls: 2 })]);
    expect(tf.memory().numTensors).toBe(0);
  });

  it('refuses to mix with earlier samples unless told to overwrite, and checks class ids', async () => {
    const out = scratch();
    writeFileSync(join(out, '0007_c1_.png'), 'old');
    const options = {
      ...DEFAULT_OPTIONS,
      modelsDir: join(ROOT, 'public', 'models'),
      classes: [3],
      allClasses: false,
      out,
      backend: 'cpu' as const,
      bench: false,
    };
    await expect(generate(options)).rejects.toThrow(/already holds 1 sample file/);
    await expect(generate({ ...options, classes: [10], overwrite: true })).rejects.toThrow(
      /class 10 is not a class of mnist/,
    );
    await expect(generate({ ...options, model: 'nope' })).rejects.toThrow(/no model 'nope'/);
  });
});

/** Size, colour type and mean saturation (max - min channel, 0..255) of an RGB PNG. */
function rgbPngStats(file: string): { width: number; height: number; saturation: number } {
  const bytes = readFileSync(file);
  expect(bytes[25]).toBe(2); // colour type: RGB
  const { width, height, rgb } = decodePng(bytes);
  let saturation = 0;
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]];
    saturation += Math.max(r, g, b) - Math.min(r, g, b);
  }
  return { width, height, saturation: saturation / (width * height) };
}

describe('generate with the emoji text-to-image pipeline on wasm', () => {
  const models = join(ROOT, 'public', 'models');
  const emoji = (out: string, over: Partial<GenerateOptions> = {}) =>
    generate({
      ...DEFAULT_OPTIONS,
      classes: [0],
      allClasses: false,
      out,
      modelsDir: models,
      model: 'emoji',
      prompt: 'red heart',
      count: 2,
      steps: 3,
      guidance: 5, // the U-Net sees 4 latents per call
      seed: 11,
      backend: 'wasm',
      bench: false,
      ...over,
    });

  it('writes 32x32 RGB colour PNGs, a sheet and a record; the same seed gives the same images', async () => {
    const out = scratch();
    const lines: string[] = [];
    const result = await generate(
      {
        ...DEFAULT_OPTIONS,
        classes: [0],
        allClasses: false,
        out,
        modelsDir: models,
        model: 'emoji',
        prompt: 'red heart zzqx',
        count: 2,
        steps: 3,
        guidance: 5,
        seed: 11,
        backend: 'wasm',
        bench: false,
      },
      (line) => lines.push(line),
    );
    expect(result.backend).toBe('wasm');
    expect(readdirSync(out).sort()).toEqual([
      '0000_.png',
      '0001_.png',
      'generate.json',
      'sheet.png',
    ]);
    for (const f of ['0000_.png', '0001_.png']) {
      const stats = rgbPngStats(join(out, f));
      expect([stats.width, stats.height]).toEqual([32, 32]);
      expect(stats.saturation).toBeGreaterThan(8); // colour, not grey
    }
    expect(rgbPngStats(join(out, 'sheet.png'))).toMatchObject({ width: 70, height: 36 });
    expect(readFileSync(join(out, '0000_.png'))).not.toEqual(readFileSync(join(out, '0001_.png')));
    expect(lines.join('\n')).toMatch(/ignored unknown word\(s\): zzqx/);
    const record = JSON.parse(readFileSync(join(out, 'generate.json'), 'utf8'));
    expect(record.settings).toMatchObject({ prompt: 'red heart zzqx', negativePrompt: '' });
    expect(record.tokens.prompt.unknown).toEqual(['zzqx']);
    expect(record.runCalls).toEqual([expect.objectContaining({ batch: 4, calls: 3 })]);
    const card = JSON.parse(readFileSync(join(models, 'emoji', 'card.json'), 'utf8'));
    expect(record.model.sha256).toBe(card.components.unet.weights.sha256);

    // Determinism: the same seed and prompt again (the unknown word changes nothing).
    const again = scratch();
    await emoji(again);
    for (const f of ['0000_.png', '0001_.png']) {
      expect(readFileSync(join(again, f))).toEqual(readFileSync(join(out, f)));
    }
    // A negative prompt changes the guidance, so the images.
    const negative = scratch();
    await emoji(negative, { negativePrompt: 'cat face' });
    expect(readFileSync(join(negative, '0000_.png'))).not.toEqual(
      readFileSync(join(out, '0000_.png')),
    );
    expect(tf.memory().numTensors).toBe(0);
  });

  it('says which options belong to which kind of model', async () => {
    const out = scratch();
    await expect(emoji(out, { classes: [3] })).rejects.toThrow(/use --prompt, not --class/);
    await expect(
      emoji(out, { model: 'mnist', backend: 'cpu', prompt: 'cat face' }),
    ).rejects.toThrow(/--prompt and --negative-prompt need a text-to-image model/);
  });
});
