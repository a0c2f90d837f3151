import { expect, test } from '@playwright/test';

test('the page renders and the worker starts a tfjs backend', async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Diffusion Playground' })).toBeVisible();

  const status = page.getByTestId('backend-name');
  await expect(status).toHaveAttribute('data-state', 'ready');
  const backend = await status.getAttribute('data-backend');
  const text = await status.textContent();
  testInfo.annotations.push({ type: 'backend', description: `${backend}: ${text}` });
  console.log(`[${testInfo.project.name}] backend: ${text}`);
  expect(['webgpu', 'webgl', 'wasm', 'cpu']).toContain(backend);
  expect(text).not.toContain('self-check failed');
  // No GPU on the CI machine: a SwiftShader WebGPU adapter must not be chosen automatically.
  const hasRealGpu = await page.evaluate(async () => {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    const adapter = (await gpu?.requestAdapter()) as
      { isFallbackAdapter?: boolean; info?: { architecture?: string } } | null | undefined;
    return !!adapter && !adapter.isFallbackAdapter && adapter.info?.architecture !== 'swiftshader';
  });
  if (!hasRealGpu) expect(backend).toBe('wasm');
  await page.screenshot({ path: testInfo.outputPath('app-shell.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('a backend named in the URL is used, and a bad one is refused with a message', async ({
  page,
}) => {
  await page.goto('/?backend=cpu');
  const status = page.getByTestId('backend-name');
  await expect(status).toHaveAttribute('data-state', 'ready');
  await expect(status).toHaveAttribute('data-backend', 'cpu');
  await expect(status).toContainText('chosen by you');

  await page.goto('/?backend=%3Cscript%3Ealert(1)%3C%2Fscript%3E');
  await expect(page.getByRole('alert')).toContainText('Ignored backend=');
  await expect(status).toHaveAttribute('data-state', 'ready');
});

test('the schedule plot shows the timesteps the real scheduler visits', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('backend-name')).toHaveAttribute('data-state', 'ready');
  const timesteps = page.getByTestId('plan-timesteps');
  await expect(page.getByTestId('plan-summary')).toContainText('DPMSolverMultistepScheduler');
  // The model's own spacing is "leading"; pick linspace to compare with diffusers' defaults.
  await page.getByRole('combobox', { name: 'Spacing' }).selectOption('linspace');
  // diffusers DPMSolverMultistepScheduler, 1000 train steps, 20 steps, linspace spacing.
  await expect(timesteps).toHaveText(
    '999, 949, 899, 849, 799, 749, 699, 649, 599, 549, 500, 450, 400, 350, 300, 250, 200, 150, 100, 50',
  );
  await page.getByRole('combobox', { name: 'Sampler' }).selectOption('DDIM');
  await page.getByRole('spinbutton', { name: 'Steps', exact: true }).fill('10');
  await page.getByRole('spinbutton', { name: 'Steps', exact: true }).press('Enter');
  // DDIM, linspace over 10 steps: 999 ... 0.
  await expect(page.getByTestId('plan-summary')).toContainText('DDIMScheduler: 10 model calls');
  await expect(timesteps).toHaveText('999, 888, 777, 666, 555, 444, 333, 222, 111, 0');
});
