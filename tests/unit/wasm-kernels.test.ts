// The wasm backend's fused kernels (src/engine/kernels: GroupNorm + SiLU, the attention core)
// against float64 references written here from PyTorch's definitions, against the tfjs ops they
// replace, and in the U-Net.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import {
  FUSED_ATTENTION,
  FUSED_GROUP_NORM,
  fusedAttention,
  fusedGroupNorm,
  prepareWasmKernels,
  wasmKernelsProblem,
  wasmKernelsReady,
} from '../../src/engine/kernels';
import { attentionCore, groupNorm, silu } from '../../src/engine/model/layers';
import { initBackend, resetBackend } from '../../src/engine/backend';
import { loadUNet, parseModelCard } from '../../src/engine/model';

const ROOT = join(__dirname, '..', '..');

/** Deterministic values: a sine mix, scaled and shifted. */
function values(n: number, scale: number, offset: number, seed: number): Float32Array {
  return Float32Array.from(
    { length: n },
    (_, i) => offset + scale * Math.sin(i * 12.9898 + seed * 78.233),
  );
}

/** nn.GroupNorm(groups, C, eps) of x + add, then SiLU, in float64, NHWC. */
function reference(
  x: Float32Array,
  shape: [number, number, number, number],
  gamma: Float32Array,
  beta: Float32Array,
  groups: number,
  eps: number,
  withSilu: boolean,
  add?: Float32Array,
): { out: Float64Array; maxGain: number } {
  const [b, h, w, c] = shape;
  let maxGain = 0;
  const hw = h * w;
  const width = c / groups;
  const out = new Float64Array(x.length);
  for (let n = 0; n < b; n++) {
    const at = (p: number, k: number) => x[(n * hw + p) * c + k] + (add ? add[n * c + k] : 0);
    for (let g = 0; g < groups; g++) {
      let sum = 0;
      for (let p = 0; p < hw; p++)
        for (let k = g * width; k < (g + 1) * width; k++) sum += at(p, k);
      const mean = sum / (hw * width);
      let sq = 0;
      for (let p = 0; p < hw; p++) {
        for (let k = g * width; k < (g + 1) * width; k++) sq += (at(p, k) - mean) ** 2;
      }
      const rstd = 1 / Math.sqrt(sq / (hw * width) + eps);
      for (let k = g * width; k < (g + 1) * width; k++)
        maxGain = Math.max(maxGain, Math.abs(gamma[k] * rstd));
      for (let p = 0; p < hw; p++) {
        for (let k = g * width; k < (g + 1) * width; k++) {
          const y = (at(p, k) - mean) * rstd * gamma[k] + beta[k];
          out[(n * hw + p) * c + k] = withSilu ? y / (1 + Math.exp(-y)) : y;
        }
      }
    }
  }
  return { out, maxGain };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

interface Case {
  name: string;
  shape: [number, number, number, number];
  groups: number;
  withSilu: boolean;
  withAdd: boolean;
  /** Activations' scale and offset: large offsets test the two-pass variance. */
  scale: number;
  offset: number;
}

const CASES: Case[] = [
  {
    name: 'U-Net shape, SiLU',
    shape: [2, 28, 28, 32],
    groups: 8,
    withSilu: true,
    withAdd: false,
    scale: 3,
    offset: 0.5,
  },
  {
    name: 'with a per-image addend',
    shape: [3, 7, 7, 64],
    groups: 8,
    withSilu: true,
    withAdd: true,
    scale: 2,
    offset: -1,
  },
  {
    name: 'no SiLU (attention norm)',
    shape: [1, 7, 7, 64],
    groups: 8,
    withSilu: false,
    withAdd: false,
    scale: 1,
    offset: 0,
  },
  {
    name: 'channels not a multiple of 4, odd positions',
    shape: [2, 3, 5, 6],
    groups: 3,
    withSilu: true,
    withAdd: true,
    scale: 4,
    offset: 2,
  },
  {
    name: 'large offset, small spread',
    shape: [1, 14, 14, 16],
    groups: 4,
    withSilu: false,
    withAdd: false,
    scale: 0.01,
    offset: 300,
  },
  {
    name: 'SiLU far into both tails',
    shape: [1, 4, 4, 8],
    groups: 1,
    withSilu: true,
    withAdd: false,
    scale: 1,
    offset: 0,
  },
];

describe('fused GroupNorm on wasm', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    expect(await prepareWasmKernels()).toBe(true);
  });

  it('is ready on the wasm backend', () => {
    expect(wasmKernelsReady()).toBe(true);
  });

  it.each(CASES)('matches nn.GroupNorm in float64: $name', (k) => {
    const [b, , , c] = k.shape;
    const size = k.shape.reduce((a, v) => a * v, 1);
    const x = values(size, k.scale, k.offset, 1);
    // The tails case: gamma large so y reaches about ±100 (SiLU → 0 and → y).
    const gamma = values(
      c,
      k.name.startsWith('SiLU far') ? 100 : 1,
      k.name.startsWith('SiLU far') ? 0 : 1,
      2,
    );
    const beta = values(c, 0.5, 0, 3);
    const add = k.withAdd ? values(b * c, 1.5, 0, 4) : undefined;
    const { out: want, maxGain } = reference(
      x,
      k.shape,
      gamma,
      beta,
      k.groups,
      1e-5,
      k.withSilu,
      add,
    );
    const got = tf.tidy(() =>
      fusedGroupNorm(
        tf.tensor4d(x, k.shape),
        tf.tensor1d(gamma),
        tf.tensor1d(beta),
        { groups: k.groups, eps: 1e-5, silu: k.withSilu },
        add ? tf.tensor2d(add, [b, c]) : undefined,
      ).dataSync(),
    );
    const outScale = Math.max(...want.map(Math.abs));
    const inScale = Math.max(...x.map(Math.abs)) + (add ? Math.max(...add.map(Math.abs)) : 0);
    // float32 against float64: a few ulp of the output, plus the float32 rounding of the mean
    // itself (an ulp of the inputs' magnitude), amplified by gamma / std. Any float32 GroupNorm,
    // PyTorch's included, has the second term; it dominates only in the large-offset case.
    const ulp = 2 ** -23;
    const tolerance = 16 * ulp * Math.max(1, outScale) + 2 * ulp * inScale * maxGain;
    expect(maxAbsDiff(got, want)).toBeLessThan(tolerance);
  });

  it('gives the numbers of the tfjs ops it replaces (layers.groupNorm, silu)', () => {
    const shape: [number, number, number, number] = [2, 14, 14, 64];
    const x = tf.tensor4d(values(2 * 14 * 14 * 64, 2, 0.3, 5), shape);
    const gamma = tf.tensor1d(values(64, 1, 1, 6));
    const beta = tf.tensor1d(values(64, 0.3, 0, 7));
    const add = tf.tensor2d(values(2 * 64, 1, 0, 8), [2, 64]);
    const fused = tf.tidy(() =>
      fusedGroupNorm(x, gamma, beta, { groups: 8, eps: 1e-5, silu: true }, add).dataSync(),
    );
    const ops = tf.tidy(() =>
      silu(
        groupNorm(tf.add(x, tf.reshape(add, [2, 1, 1, 64])), { gamma, beta }, 8, 1e-5),
      ).dataSync(),
    );
    expect(maxAbsDiff(fused, ops)).toBeLessThan(1e-5);
    tf.dispose([x, gamma, beta, add]);
  });

  it('leaves no tensors behind and refuses bad shapes with a clear message', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.ones([2, 4, 4, 8]) as tf.Tensor4D;
      const g = tf.ones([8]) as tf.Tensor1D;
      fusedGroupNorm(x, g, g, { groups: 4, eps: 1e-5, silu: true });
      expect(() => fusedGroupNorm(x, g, g, { groups: 3, eps: 1e-5, silu: true })).toThrow(
        /with 3 groups/,
      );
      expect(() =>
        fusedGroupNorm(
          x,
          g,
          g,
          { groups: 4, eps: 1e-5, silu: true },
          tf.ones([1, 8]) as tf.Tensor2D,
        ),
      ).toThrow(/add must be \[2, 8\]/);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is what the U-Net runs for its norms and attention on wasm', async () => {
    const dir = join(ROOT, 'public', 'models', 'mnist');
    const card = parseModelCard(JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')), 'card');
    const bytes = readFileSync(join(dir, card.weights.file));
    const unet = await loadUNet(
      card,
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
    );
    const x = tf.zeros([2, 28, 28, 1]) as tf.Tensor4D;
    const info = await tf.profile(() => unet.predict(x, [10, 500], [3, 10]).dispose());
    const names = info.kernels.map((k) => k.name);
    // Two per ResBlock, one per attention, one output norm (27 for the shipped config).
    const blocks = unet.plan.down.concat(unet.plan.up).reduce((n, l) => n + l.blocks.length, 2);
    const attentions =
      unet.plan.down.concat(unet.plan.up).reduce((n, l) => n + l.attentions.length, 0) +
      (unet.plan.midAttention ? 1 : 0);
    expect(names.filter((n) => n === FUSED_GROUP_NORM).length).toBe(2 * blocks + attentions + 1);
    expect(names.filter((n) => n === FUSED_ATTENTION).length).toBe(attentions);
    // What they replace is gone: no Mean/AvgPool from the norms, no batched matMul or softmax.
    const replaced = ['Mean', 'AvgPool', 'BatchMatMul', 'Softmax', 'SplitV'];
    expect(names.filter((n) => replaced.includes(n))).toEqual([]);
    tf.dispose(x);
    unet.dispose();
  });

  it('is set up again for a backend made anew (e.g. after resetBackend)', async () => {
    resetBackend('wasm');
    await tf.setBackend('wasm');
    await tf.ready();
    // A new backend instance has a new heap: the old instance must not be used on it.
    expect(wasmKernelsReady()).toBe(false);
    expect(await prepareWasmKernels()).toBe(true);
    const got = tf.tidy(() =>
      fusedGroupNorm(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), tf.tensor1d([1]), tf.tensor1d([0]), {
        groups: 1,
        eps: 0,
        silu: false,
      }).dataSync(),
    );
    const rstd = 1 / Math.sqrt(1.25);
    expect(maxAbsDiff(got, [-1.5 * rstd, -0.5 * rstd, 0.5 * rstd, 1.5 * rstd])).toBeLessThan(1e-6);
  });
});

/** softmax(q k^T / sqrt(d)) v per head, in float64; qkv [b, n, 3c] -> [b, n, c]. */
function attentionReference(
  qkv: Float32Array,
  b: number,
  n: number,
  c: number,
  heads: number,
): Float64Array {
  const d = c / heads;
  const out = new Float64Array(b * n * c);
  const at = (img: number, pos: number, part: number, h: number, k: number) =>
    qkv[(img * n + pos) * 3 * c + part * c + h * d + k];
  for (let img = 0; img < b; img++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < n; i++) {
        const scores = Array.from({ length: n }, (_, j) => {
          let s = 0;
          for (let k = 0; k < d; k++) s += at(img, i, 0, h, k) * at(img, j, 1, h, k);
          return s / Math.sqrt(d);
        });
        const top = Math.max(...scores);
        const weights = scores.map((s) => Math.exp(s - top));
        const total = weights.reduce((a, v) => a + v, 0);
        for (let k = 0; k < d; k++) {
          let acc = 0;
          for (let j = 0; j < n; j++) acc += weights[j] * at(img, j, 2, h, k);
          out[(img * n + i) * c + h * d + k] = acc / total;
        }
      }
    }
  }
  return out;
}

describe('fused attention on wasm', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    expect(await prepareWasmKernels()).toBe(true);
  });

  const ATTENTION_CASES = [
    { name: 'U-Net shape (7x7, 64 channels, 1 head)', b: 2, n: 49, c: 64, heads: 1, scale: 1 },
    { name: '4 heads', b: 1, n: 16, c: 32, heads: 4, scale: 1 },
    { name: 'head width not a multiple of 4', b: 3, n: 5, c: 6, heads: 2, scale: 1 },
    { name: 'sharp scores (softmax near one-hot)', b: 1, n: 12, c: 8, heads: 1, scale: 30 },
  ];

  it.each(ATTENTION_CASES)('matches softmax(q k^T / sqrt(d)) v in float64: $name', (k) => {
    const qkv = values(k.b * k.n * 3 * k.c, k.scale, 0, 9);
    const want = attentionReference(qkv, k.b, k.n, k.c, k.heads);
    const got = tf.tidy(() =>
      fusedAttention(tf.tensor3d(qkv, [k.b, k.n, 3 * k.c]), k.heads).dataSync(),
    );
    expect(got.length).toBe(want.length);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5 * Math.max(1, k.scale));
  });

  it('gives the numbers of the tfjs ops it replaces (attentionCore)', () => {
    const qkv = tf.tensor3d(values(4 * 49 * 192, 2, 0, 10), [4, 49, 192]);
    const fused = tf.tidy(() => fusedAttention(qkv, 1).dataSync());
    const ops = tf.tidy(() => attentionCore(qkv, 1).dataSync());
    expect(maxAbsDiff(fused, ops)).toBeLessThan(1e-5);
    qkv.dispose();
  });

  it('refuses a qkv that does not split into the heads', () => {
    const qkv = tf.zeros([1, 4, 12]) as tf.Tensor3D;
    expect(() => fusedAttention(qkv, 3)).toThrow(/does not split into 3 heads/);
    expect(() => fusedAttention(tf.zeros([1, 4, 10]) as tf.Tensor3D, 1)).toThrow(FUSED_ATTENTION);
    qkv.dispose();
  });
});

describe('a wasm backend where the module cannot run (e.g. no WebAssembly SIMD)', () => {
  afterAll(() => {
    vi.restoreAllMocks();
  });

  it('says so in the backend reason, and the U-Net gives the same numbers with tfjs ops', async () => {
    const dir = join(ROOT, 'public', 'models', 'mnist');
    const card = parseModelCard(JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')), 'card');
    const bytes = readFileSync(join(dir, card.weights.file));
    const weights = () =>
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
    const predict = async (): Promise<Float32Array> => {
      const unet = await loadUNet(card, weights());
      const x = tf.tensor4d(values(2 * 28 * 28, 1, 0, 11), [2, 28, 28, 1]);
      const out = unet.predict(x, [100, 700], [4, 10]);
      const result = (await out.data()) as Float32Array;
      tf.dispose([x, out]);
      unet.dispose();
      return result;
    };
    await tf.setBackend('wasm');
    expect(await prepareWasmKernels()).toBe(true);
    const fused = await predict();

    // A fresh backend whose kernel module fails to instantiate.
    resetBackend('wasm');
    await tf.setBackend('wasm');
    await tf.ready();
    const instantiate = vi
      .spyOn(WebAssembly, 'instantiate')
      .mockRejectedValue(new WebAssembly.CompileError('simulated: SIMD unsupported'));
    const active = await initBackend({ order: ['wasm'], reason: 'test' });
    expect(active.name).toBe('wasm');
    expect(active.reason).toMatch(/without the fused wasm kernels \(simulated: SIMD unsupported\)/);
    expect(wasmKernelsReady()).toBe(false);
    expect(wasmKernelsProblem()).toMatch(/simulated/);
    const plain = await predict(); // loadUNet tries again, and fails again
    expect(wasmKernelsReady()).toBe(false);
    expect(maxAbsDiff(plain, fused)).toBeLessThan(1e-4);
    expect(maxAbsDiff(plain, fused)).toBeGreaterThan(0); // really the other code path
    instantiate.mockRestore();

    // The next attempt (e.g. after the engine restarts) may succeed again.
    expect(await prepareWasmKernels()).toBe(true);
    expect(wasmKernelsProblem()).toBe('');
  });
});

describe('the fused kernels elsewhere', () => {
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  it('are not used on the cpu backend', async () => {
    await tf.setBackend('cpu');
    expect(await prepareWasmKernels()).toBe(false);
    expect(wasmKernelsReady()).toBe(false);
  });
});

function hasTool(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// The committed module must be what the C source compiles to (needs clang and lld: .ci/run
// installs them).
describe.runIf(hasTool('clang') && hasTool('llvm-objdump'))('the committed wasm module', () => {
  it('is what scripts/build-wasm-kernels.mjs builds from the C sources', () => {
    const out = execFileSync('node', ['scripts/build-wasm-kernels.mjs', '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(out).toMatch(/matches/);
  });
});
