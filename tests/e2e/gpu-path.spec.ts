// The GPU path as far as a machine without a GPU can run it: WebGPU on SwiftShader (the
// webgpu-flag project). The engine reads the adapter's limits and features, measures the model's
// largest tensor per image, splits a batch larger than the adapter could bind (here made to look
// small with debug=1&gpuBufferLimit) into calls that fit, with the same outputs, and keeps a trace
// of each call's dispatches. shader-f16 is not offered by SwiftShader: the plan says float32.
import { evaluateFixture, maxAbsDiff, readParityFixture } from './parityFixture';
import { expect, test, type Page } from '@playwright/test';
import type { GpuPathReport } from '../../src/worker/gpuPath';

const fixture = readParityFixture('mnist');

async function evaluate(page: Page) {
  const status = page.getByTestId('backend-name');
  await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 90_000 });
  await expect(status).toHaveAttribute('data-backend', 'webgpu');
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeEnabled({
    timeout: 120_000,
  });
  const result = await evaluateFixture(page, fixture);
  const worst = maxAbsDiff(result.output, fixture.output);
  return { ...result, worst, gpu: result.gpu as GpuPathReport };
}

test('WebGPU: limits checked, a batch too large for the adapter split, dispatches traced', async ({
  page,
}, testInfo) => {
  test.skip(testInfo.project.name !== 'webgpu-flag', 'needs --enable-unsafe-webgpu');
  test.setTimeout(360_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));

  await page.goto('/?debug=1&backend=webgpu&model=mnist');
  const whole = await evaluate(page);
  expect(whole.worst).toBeLessThan(1e-3);
  const gpu = whole.gpu;
  expect(gpu.limits!.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
  expect(gpu.footprint!.largestTensorElementsPerSample).toBeGreaterThan(28 * 28);
  expect(gpu.batchLimit!.maxBatch).toBeGreaterThanOrEqual(fixture.class_ids.length);
  // SwiftShader offers no shader-f16: float32, and the kernels run float32 in any case.
  expect(gpu.shaderF16).toBe(false);
  expect(gpu.precision.storage).toBe('float32');
  expect(gpu.precision.why).toContain('shader-f16');
  expect(gpu.running).toBe('float32');
  const call = gpu.traces[gpu.traces.length - 1];
  expect(call.batch).toBe(3);
  expect(call.split).toBeNull();
  expect(call.dispatches).toBeGreaterThan(50);
  expect(call.byKind.map(([kind]) => kind)).toContain('playgroundGroupNorm');
  console.log(
    `[gpu path] one call of 3 images: ${call.dispatches} dispatches; ` +
      `${call.byKind
        .slice(0, 5)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}; largest tensor ` +
      `${gpu.footprint!.largestTensorElementsPerSample} elements per image; ${gpu.batchLimit!.why}`,
  );

  // An adapter that binds only two images' largest tensor: the batch of 3 runs as 2 + 1.
  const limit = Math.ceil((2 * gpu.batchLimit!.bytesPerSample) / 0.9) + 4;
  await page.goto(`/?debug=1&backend=webgpu&model=mnist&gpuBufferLimit=${limit}`);
  const split = await evaluate(page);
  expect(split.gpu.batchLimit!.maxBatch).toBe(2);
  const splitCall = split.gpu.traces[split.gpu.traces.length - 1];
  expect(splitCall.split).toEqual([2, 1]);
  expect(splitCall.dispatches).toBeGreaterThan(call.dispatches);
  expect(split.worst).toBeLessThan(1e-3);
  let diff = 0;
  split.output.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - whole.output[i]))));
  console.log(
    `[gpu path] split 2 + 1: ${splitCall.dispatches} dispatches; max |diff| to one call ${diff.toExponential(2)}`,
  );
  expect(diff).toBeLessThan(1e-4);
  expect(errors).toEqual([]);
});
