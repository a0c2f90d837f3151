// How many wasm threads the engine runs and how the backend line says it (src/engine/wasmThreads.ts),
// and the shared-memory build of the fused kernels that tfjs's threaded build needs
// (src/engine/kernels, scripts/build-wasm-kernels.mjs): same numbers as the ordinary build.
import { describe, expect, it } from 'vitest';
import {
  MAX_WASM_THREADS,
  parseThreadsParam,
  parseWasmMode,
  planWasmThreads,
  wasmThreadsLine,
} from '../../src/engine/wasmThreads';
import {
  KERNELS_WASM_BASE64,
  KERNELS_WASM_SHARED_BASE64,
} from '../../src/engine/kernels/kernelsWasm';
import { isSharedMemory } from '../../src/engine/kernels/wasmKernels';
import { splitCapacity, splitLayout, splitSizes } from '../../src/worker/batchSplit';

describe('planWasmThreads', () => {
  it("takes every core when the page is cross-origin isolated: 'hybrid' by default", () => {
    const plan = planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 2 }, null);
    expect(plan).toMatchObject({
      threads: 2,
      mode: 'hybrid',
      workers: 2,
      threadsPerWorker: 2,
      isolated: true,
    });
    expect(plan.why).toBe(
      "one per core (2 cores); XNNPACK's thread pool for one image, a batch split across " +
        'workers of one thread each',
    );
    const split = planWasmThreads(
      { crossOriginIsolated: true, hardwareConcurrency: 2 },
      null,
      'split',
    );
    expect(split).toMatchObject({ threads: 2, mode: 'split', workers: 2, threadsPerWorker: 1 });
    expect(split.why).toBe(
      'one per core (2 cores); the batch split across workers of one thread each',
    );
    expect(
      planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 4 }, null).threads,
    ).toBe(4);
  });

  it("in 'threads' mode, one worker with XNNPACK's pool", () => {
    const plan = planWasmThreads(
      { crossOriginIsolated: true, hardwareConcurrency: 2 },
      null,
      'threads',
    );
    expect(plan).toMatchObject({ threads: 2, mode: 'threads', workers: 1, threadsPerWorker: 2 });
    expect(plan.why).toContain("XNNPACK's thread pool");
    expect(parseWasmMode('threads')).toBe('threads');
    expect(parseWasmMode('split')).toBe('split');
    expect(parseWasmMode(null)).toBe('hybrid');
    expect(parseWasmMode('bogus')).toBe('hybrid');
  });

  it('runs one thread, and says why, without isolation', () => {
    const plan = planWasmThreads({ crossOriginIsolated: false, hardwareConcurrency: 16 }, 8);
    expect(plan).toMatchObject({ threads: 1, workers: 1, threadsPerWorker: 1, isolated: false });
    expect(plan.why).toContain('not cross-origin isolated');
  });

  it(`caps at ${MAX_WASM_THREADS} (tfjs's pool) and says so`, () => {
    const plan = planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 32 }, null);
    expect(plan.threads).toBe(MAX_WASM_THREADS);
    expect(plan.why).toContain(`capped at ${MAX_WASM_THREADS}`);
  });

  it('follows ?threads=N within the cap, and one thread when the core count is unknown', () => {
    const iso = { crossOriginIsolated: true, hardwareConcurrency: 2 };
    expect(planWasmThreads(iso, 1)).toMatchObject({ threads: 1, workers: 1 });
    expect(planWasmThreads(iso, 1).why).toContain('chosen by you (threads=1)');
    // More than the cores is allowed (a test may oversubscribe), never more than the cap.
    expect(planWasmThreads(iso, 3).threads).toBe(3);
    expect(planWasmThreads(iso, 64).threads).toBe(MAX_WASM_THREADS);
    expect(
      planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 0 }, null).threads,
    ).toBe(1);
  });
});

describe('parseThreadsParam and the backend line', () => {
  it('reads positive integers only', () => {
    expect(parseThreadsParam('2')).toBe(2);
    expect(parseThreadsParam(' 1 ')).toBe(1);
    for (const bad of [null, '', '0', '-1', '1.5', 'two', '2x'])
      expect(parseThreadsParam(bad)).toBeNull();
  });

  it('says threads and isolation as the issue asks', () => {
    expect(wasmThreadsLine(2, true)).toBe('wasm, 2 threads (cross-origin isolated)');
    expect(wasmThreadsLine(1, false)).toBe('wasm, 1 thread (not cross-origin isolated)');
  });
});

function bytes(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(Buffer.from(base64, 'base64'));
}

interface Kernels {
  group_norm(...args: number[]): void;
  attention(...args: number[]): void;
}

/** Instantiates a kernel build on `memory` and runs both kernels on the same inputs. */
function run(
  base64: string,
  memory: WebAssembly.Memory,
): { norm: Float32Array; attn: Float32Array } {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes(base64)), {
    env: { memory },
  });
  const k = instance.exports as unknown as Kernels;
  const f32 = new Float32Array(memory.buffer);
  const fill = (offset: number, n: number, seed: number) => {
    for (let i = 0; i < n; i++)
      f32[offset / 4 + i] = Math.sin(i * 12.9898 + seed * 78.233) * 1.7 + 0.1;
  };
  // GroupNorm + add + SiLU on [2, 4x4, 8 channels], 4 groups.
  const [b, hw, c] = [2, 16, 8];
  const X = 1 << 16;
  const ADD = X + b * hw * c * 4;
  const GAMMA = ADD + b * c * 4;
  const BETA = GAMMA + c * 4;
  const OUT = BETA + c * 4;
  const SCRATCH = OUT + b * hw * c * 4;
  fill(X, b * hw * c, 1);
  fill(ADD, b * c, 2);
  fill(GAMMA, c, 3);
  fill(BETA, c, 4);
  k.group_norm(X, ADD, GAMMA, BETA, OUT, b, hw, c, 4, 1e-5, 1, SCRATCH);
  const norm = f32.slice(OUT / 4, OUT / 4 + b * hw * c);
  // Attention on qkv [2, 16, 3 x 8], 2 heads.
  const QKV = 1 << 17;
  const AOUT = QKV + b * hw * 3 * c * 4;
  const ASCRATCH = AOUT + b * hw * c * 4;
  fill(QKV, b * hw * 3 * c, 5);
  k.attention(QKV, AOUT, b, hw, c, 2, ASCRATCH);
  const attn = f32.slice(AOUT / 4, AOUT / 4 + b * hw * c);
  return { norm, attn };
}

describe('the fused kernels on a shared memory (tfjs threaded build)', () => {
  it('the ordinary build refuses a shared memory, the shared build takes it', () => {
    const shared = new WebAssembly.Memory({ initial: 4, maximum: 65536, shared: true });
    expect(isSharedMemory(shared)).toBe(true);
    expect(isSharedMemory(new WebAssembly.Memory({ initial: 4 }))).toBe(false);
    const plain = new WebAssembly.Module(bytes(KERNELS_WASM_BASE64));
    expect(() => new WebAssembly.Instance(plain, { env: { memory: shared } })).toThrow();
    const sharedModule = new WebAssembly.Module(bytes(KERNELS_WASM_SHARED_BASE64));
    expect(() => new WebAssembly.Instance(sharedModule, { env: { memory: shared } })).not.toThrow();
  });

  it('computes exactly what the ordinary build computes', () => {
    const a = run(KERNELS_WASM_BASE64, new WebAssembly.Memory({ initial: 4 }));
    const b = run(
      KERNELS_WASM_SHARED_BASE64,
      new WebAssembly.Memory({ initial: 4, maximum: 65536, shared: true }),
    );
    expect(a.norm.some((v) => v !== 0)).toBe(true);
    expect(a.attn.some((v) => v !== 0)).toBe(true);
    expect(Array.from(b.norm)).toEqual(Array.from(a.norm));
    expect(Array.from(b.attn)).toEqual(Array.from(a.attn));
  });
});

describe('the batch split of the engine (src/worker/batchSplit.ts)', () => {
  it('cuts a batch into equal slices, none empty, the engine taking the first', () => {
    expect(splitSizes(32, 2)).toEqual([16, 16]);
    expect(splitSizes(3, 2)).toEqual([2, 1]);
    expect(splitSizes(1, 2)).toEqual([1]);
    expect(splitSizes(5, 8)).toEqual([1, 1, 1, 1, 1]);
    for (let b = 1; b < 40; b++) {
      for (let p = 1; p < 9; p++) {
        const s = splitSizes(b, p);
        expect(s.reduce((a, c) => a + c, 0)).toBe(b);
        expect(Math.min(...s)).toBeGreaterThan(0);
        expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('lays a helper buffer out aligned, with room for inputs and outputs', () => {
    const at = splitLayout(16, 28 * 28);
    expect(at.timesteps % 8).toBe(0);
    expect(at.classes - at.timesteps).toBe(16 * 8);
    expect(at.x - at.classes).toBe(16 * 4);
    expect(at.out - at.x).toBe(16 * 784 * 4);
    expect(at.bytes - at.out).toBe(16 * 784 * 4);
    // The helper recovers the capacity from the buffer's size (splitHelper.worker.ts).
    expect((at.bytes - 32) / (8 + 4 + 8 * 784)).toBe(16);
    expect(splitCapacity(at.bytes, 784)).toBe(16);
  });
});
