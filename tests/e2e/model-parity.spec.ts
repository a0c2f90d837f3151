// The shipped model, as the app's engine worker runs it on each backend in the browser, against
// PyTorch's outputs for the same inputs (tests/fixtures/parity-<id>.json, written by
// training/export.py). The unit tests prove the same in Node on cpu and wasm; this proves it for
// the code paths only a browser has: WebGL, and WebGPU (on SwiftShader here), and the wasm
// backend with the fused kernels as bundled into the worker.
import { evaluateFixture, maxAbsDiff, readParityFixture } from './parityFixture';
import { expect, test } from '@playwright/test';

// Same tolerance and reasoning as tests/unit/model-parity.test.ts: float32 on both sides, only
// the summation order differs (~1e-5); a port error shows up as O(0.1-1).
const TOLERANCE = 1e-3;

// fused: whether the playground's fused GroupNorm kernel (src/engine/kernels) runs there.
const CASES = [
  { backend: 'wasm', project: 'default', fused: true },
  { backend: 'webgl', project: 'default', fused: true },
  { backend: 'webgpu', project: 'webgpu-flag', fused: true },
] as const;

for (const model of ['mnist', 'fashion-mnist', 'mnist-linear']) {
  const fixture = readParityFixture(model);

  for (const { backend, project, fused } of CASES) {
    test(`${model} on ${backend} matches PyTorch within ${TOLERANCE}`, async ({
      page,
    }, testInfo) => {
      test.skip(testInfo.project.name !== project, `${backend} is checked in ${project}`);
      test.setTimeout(180_000);
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`/?debug=1&backend=${backend}&model=${model}`);
      const status = page.getByTestId('backend-name');
      await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
      await expect(status).toHaveAttribute('data-backend', backend);
      // On wasm, the fused kernels as bundled into the worker are what is checked.
      if (backend === 'wasm') await expect(status).not.toContainText('without the fused');
      await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeEnabled({
        timeout: 60_000,
      });
      const result = await evaluateFixture(page, fixture);
      expect(result.backend).toBe(backend);
      expect(result.kernels.includes('PlaygroundFusedGroupNorm')).toBe(fused);
      expect(result.output.length).toBe(fixture.output.length);
      const worst = maxAbsDiff(result.output, fixture.output);
      console.log(
        `[parity ${model} ${backend} in the browser] max |diff| = ${worst.toExponential(2)}`,
      );
      expect(worst).toBeLessThan(TOLERANCE);
      expect(errors).toEqual([]);
    });
  }
}
