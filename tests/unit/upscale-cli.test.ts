// The headless super-resolution stage (scripts/lib/upscale.ts, behind `npm run upscale`), run
// in-process on the wasm backend with the shipped SR weights; the colour PNG reader and writer; the
// noise augmentation of the low-res input.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePng, encodeRgbPng } from '../../scripts/lib/pngRgb';
import { parseUpscaleArgs, upscale, type UpscaleOptions } from '../../scripts/lib/upscale';
import {
  UsageError,
  generate,
  parseGenerateArgs,
  type GenerateOptions,
} from '../../scripts/lib/generate';
import { augmentLowRes, augmentSeed } from '../../src/engine/sr/srDenoiser';

const ROOT = join(__dirname, '..', '..');
const SR_DIR = join(ROOT, 'public', 'models', 'emoji-sr');
const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'upscale-test-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('colour PNGs', () => {
  it('round-trips RGB', () => {
    const rgb = Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 37) % 256);
    const img = decodePng(encodeRgbPng(rgb, 5, 3));
    expect([img.width, img.height]).toEqual([5, 3]);
    expect(Array.from(img.rgb)).toEqual(Array.from(rgb));
  });

  it('puts RGBA on white and reads every row filter', () => {
    // 2x2 RGBA: opaque red, transparent black, half-transparent blue, opaque white; filters 1 and 4.
    const rows = [
      [255, 0, 0, 255, 0, 0, 0, 0],
      [0, 0, 255, 128, 255, 255, 255, 255],
    ];
    const sub = (r: number[]) => r.map((v, i) => (i >= 4 ? (v - r[i - 4]) & 0xff : v));
    const paeth = (r: number[], up: number[]) =>
      r.map((v, i) => {
        const a = i >= 4 ? r[i - 4] : 0;
        const b = up[i];
        const c = i >= 4 ? up[i - 4] : 0;
        const p = a + b - c;
        const pr =
          Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
            ? a
            : Math.abs(p - b) <= Math.abs(p - c)
              ? b
              : c;
        return (v - pr) & 0xff;
      });
    const raw = Buffer.from([1, ...sub(rows[0]), 4, ...paeth(rows[1], rows[0])]);
    const crcTable = Array.from({ length: 256 }, (_, n) => {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      return c >>> 0;
    });
    const chunk = (type: string, data: Buffer) => {
      const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
      let c = 0xffffffff;
      for (const b of body) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
      const out = Buffer.alloc(12 + data.length);
      out.writeUInt32BE(data.length, 0);
      body.copy(out, 4);
      out.writeUInt32BE((c ^ 0xffffffff) >>> 0, 8 + data.length);
      return out;
    };
    const ihdr = Buffer.from([0, 0, 0, 2, 0, 0, 0, 2, 8, 6, 0, 0, 0]);
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    const img = decodePng(png);
    expect(Array.from(img.rgb)).toEqual([255, 0, 0, 255, 255, 255, 127, 127, 255, 255, 255, 255]);
  });

  it('says what is wrong with a file that is not a PNG', () => {
    expect(() => decodePng(Buffer.from('hello'), 'x.png')).toThrow('x.png is not a PNG file');
  });
});

describe('noise augmentation of the low-res input', () => {
  const abar = Float32Array.from(
    { length: 1000 },
    (_, t) => Math.cos(((t / 1000 + 0.008) / 1.008) * (Math.PI / 2)) ** 2,
  );

  it('leaves the input alone at level 0 and mixes in each image’s own noise above it', () => {
    const y = Float32Array.from({ length: 2 * 12 }, (_, i) => (i % 7) / 7 - 0.5);
    expect(Array.from(augmentLowRes(y, 12, 0, abar, [1, 2]))).toEqual(Array.from(y));
    const a = augmentLowRes(y, 12, 200, abar, [1, 2]);
    const b = augmentLowRes(y, 12, 200, abar, [1, 3]);
    expect(Array.from(a.subarray(0, 12))).toEqual(Array.from(b.subarray(0, 12))); // image 0: same seed
    expect(Array.from(a.subarray(12))).not.toEqual(Array.from(b.subarray(12)));
    expect(augmentSeed(1)).not.toBe(1); // a stream apart from the run's own noise
    expect(() => augmentLowRes(y, 12, 1000, abar, [1, 2])).toThrow('noise level');
  });
});

describe('parseUpscaleArgs', () => {
  it('reads the options and requires --in and --out', () => {
    expect(
      parseUpscaleArgs([
        '--in',
        'a',
        '--out',
        'b',
        '--steps',
        '8',
        '--seed',
        '3',
        '--noise-level',
        '50',
        '--sampler',
        'Euler a',
      ]),
    ).toMatchObject({
      input: 'a',
      out: 'b',
      steps: 8,
      seed: 3,
      noiseLevel: 50,
      sampler: 'Euler a',
    });
    expect(() => parseUpscaleArgs(['--out', 'b'])).toThrow(UsageError);
    expect(() => parseUpscaleArgs(['--in', 'a', '--out', 'b', '--sampler', 'nope'])).toThrow(
      'unknown sampler',
    );
  });
});

describe('npm run upscale (in-process, wasm)', () => {
  it('writes each input’s 2x result under the same name, consistent with the input', async () => {
    const input = scratch();
    const out = scratch();
    // Two held-out examples from the shipped sprite, as separate 32x32 files.
    const sprite = decodePng(readFileSync(join(SR_DIR, 'examples.png')));
    for (const k of [0, 1]) {
      const rgb = new Uint8Array(32 * 32 * 3);
      for (let y = 0; y < 32; y++)
        rgb.set(
          sprite.rgb.subarray(
            (y * sprite.width + 32 * k) * 3,
            (y * sprite.width + 32 * k + 32) * 3,
          ),
          y * 96,
        );
      writeFileSync(join(input, `example${k}.png`), encodeRgbPng(rgb, 32, 32));
    }
    const result = await upscale({
      ...(parseUpscaleArgs([
        '--in',
        input,
        '--out',
        out,
        '--steps',
        '6',
        '--backend',
        'wasm',
      ]) as UpscaleOptions),
      model: SR_DIR,
    });
    expect(readdirSync(out).sort()).toEqual(['example0.png', 'example1.png', 'upscale.json']);
    for (const k of [0, 1]) {
      const big = decodePng(readFileSync(join(out, `example${k}.png`)));
      const small = decodePng(readFileSync(join(input, `example${k}.png`)));
      expect([big.width, big.height]).toEqual([64, 64]);
      let se = 0;
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          for (let c = 0; c < 3; c++) {
            const at = (yy: number, xx: number) => big.rgb[(yy * 64 + xx) * 3 + c];
            const down = Math.round(
              (at(2 * y, 2 * x) +
                at(2 * y, 2 * x + 1) +
                at(2 * y + 1, 2 * x) +
                at(2 * y + 1, 2 * x + 1)) /
                4,
            );
            se += (down - small.rgb[(y * 32 + x) * 3 + c]) ** 2;
          }
        }
      }
      const db = 10 * Math.log10((255 * 255) / (se / (32 * 32 * 3)));
      expect(db).toBeGreaterThan(22); // bicubic ~36 dB; an output that ignored its input < 15 dB
    }
    expect(result.files.map((f) => f.seed)).toEqual([0, 1]);
    await expect(
      upscale({
        ...(parseUpscaleArgs(['--in', input, '--out', out, '--backend', 'cpu']) as UpscaleOptions),
        model: SR_DIR,
      }),
    ).rejects.toThrow('--overwrite');
  }, 120_000);
});

describe('every sampler drives the SR stage (wasm, shipped weights)', () => {
  // Heun and DPM2 a take 'leading' spacing: from the cosine schedule's sigma at t = 999 (~1e4, where
  // the model's own trailing spacing starts) their second-order correction overshoots (the
  // trapezoid rule across one step from sigma 1e4 to ~5), as it would in diffusers.
  const samplers: [string, string][] = [
    ['DDIM', 'trailing'],
    ['DDPM', 'trailing'],
    ['Euler a', 'trailing'],
    ['DPM++ 2M Karras', 'trailing'],
    ['UniPC', 'trailing'],
    ['PLMS', 'trailing'],
    ['Heun', 'leading'],
    ['DPM2 a', 'leading'],
  ];
  it.each(samplers)(
    '%s (%s spacing): 8 steps stay consistent with the input',
    async (sampler, spacing) => {
      const input = scratch();
      const out = scratch();
      const sprite = decodePng(readFileSync(join(SR_DIR, 'examples.png')));
      const rgb = new Uint8Array(32 * 32 * 3);
      for (let y = 0; y < 32; y++)
        rgb.set(sprite.rgb.subarray(y * sprite.width * 3, (y * sprite.width + 32) * 3), y * 96);
      writeFileSync(join(input, 'a.png'), encodeRgbPng(rgb, 32, 32));
      const options = parseUpscaleArgs([
        '--in',
        input,
        '--out',
        out,
        '--steps',
        '8',
        '--sampler',
        sampler,
        '--spacing',
        spacing,
      ]) as UpscaleOptions;
      await upscale({ ...options, model: SR_DIR });
      const big = decodePng(readFileSync(join(out, 'a.png')));
      let se = 0;
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          for (let c = 0; c < 3; c++) {
            const at = (yy: number, xx: number) => big.rgb[(yy * 64 + xx) * 3 + c];
            const down = Math.round(
              (at(2 * y, 2 * x) +
                at(2 * y, 2 * x + 1) +
                at(2 * y + 1, 2 * x) +
                at(2 * y + 1, 2 * x + 1)) /
                4,
            );
            se += (down - rgb[(y * 32 + x) * 3 + c]) ** 2;
          }
        }
      }
      expect(10 * Math.log10((255 * 255) / (se / (32 * 32 * 3)))).toBeGreaterThan(20);
    },
    60_000,
  );
});

describe('npm run generate -- --model emoji --upscale (the cascade, headless)', () => {
  it('writes the 32x32 and the 64x64 PNG of every image, paired by name', async () => {
    const out = scratch();
    const options = parseGenerateArgs(
      [
        '--model',
        'emoji',
        '--prompt',
        'red heart',
        '--count',
        '2',
        '--steps',
        '2',
        '--upscale',
      ].concat(['--upscale-steps', '3', '--upscale-noise-level', '20', '--no-bench', '--out', out]),
    );
    if (options === 'help') throw new Error('unexpected help');
    expect(options).toMatchObject({
      upscale: true,
      upscaleSteps: 3,
      upscaleNoiseLevel: 20,
      upscaleSampler: 'DDIM',
    });
    await generate({ ...options, modelsDir: join(ROOT, 'public', 'models') });
    expect(readdirSync(out).sort()).toEqual(
      [
        '0000_.png',
        '0000_x2.png',
        '0001_.png',
        '0001_x2.png',
        'generate.json',
        'sheet.png',
        'sheet_x2.png',
      ].sort(),
    );
    expect(decodePng(readFileSync(join(out, '0001_.png'))).width).toBe(32);
    expect(decodePng(readFileSync(join(out, '0001_x2.png'))).width).toBe(64);
    const record = JSON.parse(readFileSync(join(out, 'generate.json'), 'utf8')) as {
      upscale: { noiseLevel: number; files: unknown[] };
    };
    expect(record.upscale.noiseLevel).toBe(20);
    expect(record.upscale.files).toHaveLength(2);
    await expect(
      generate({
        ...(parseGenerateArgs([
          '--model',
          'mnist',
          '--upscale',
          '--out',
          scratch(),
        ]) as GenerateOptions),
        modelsDir: join(ROOT, 'public', 'models'),
      }),
    ).rejects.toThrow('class model');
  }, 120_000);
});
