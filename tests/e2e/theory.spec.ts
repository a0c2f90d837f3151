// Classifier guidance and Langevin dynamics as a person uses them: the noisy classifier loads
// beside the model, its guidance changes the samples, the Annealed Langevin sampler and the
// Langevin corrector run to the end, the score view is drawn, and the settings live in the URL.
import { expect, test, type Page } from '@playwright/test';

const X_T = 'Noisy sample x_t';
const SCORE = 'Score direction −ε/σ_t';

async function open(page: Page, query: string) {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`/${query}`);
  await expect(page.getByTestId('backend-name')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled({ timeout: 60_000 });
  return errors;
}

async function setNumber(page: Page, name: string, value: number) {
  const field = page.getByRole('spinbutton', { name, exact: true });
  await field.fill(String(value));
  await field.press('Enter');
  await expect(field).toHaveValue(String(value));
}

async function generateToEnd(page: Page) {
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 120_000,
  });
}

async function canvasBytes(page: Page, name: string): Promise<number[]> {
  return page.evaluate((label) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`canvas[aria-label="${label}"]`);
    if (!canvas) throw new Error(`no canvas ${label}`);
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    return Array.from(data.filter((_, i) => i % 4 === 0));
  }, name);
}

test('classifier guidance loads its classifier, changes the samples and lives in the URL', async ({
  page,
}) => {
  const errors = await open(page, '?model=mnist&class=3&guidance=0&steps=6&batch=1&seed=7');
  const field = page.getByRole('spinbutton', { name: 'Classifier guidance', exact: true });
  await expect(field).toBeEnabled({ timeout: 60_000 });

  await generateToEnd(page);
  const plain = await canvasBytes(page, X_T);

  await setNumber(page, 'Classifier guidance', 5);
  await expect(page).toHaveURL(/[?&]cg=5(&|$)/);
  await generateToEnd(page);
  const guided = await canvasBytes(page, X_T);
  const changed = plain.filter((v, i) => Math.abs(v - guided[i]) > 8).length;
  expect(changed).toBeGreaterThan(20); // same seed, same noise: only the guidance differs

  // The score view is -eps on the noise view's scale: the two mirror each other.
  const noise = await canvasBytes(page, 'Predicted noise');
  const score = await canvasBytes(page, SCORE);
  expect(score.length).toBe(noise.length);
  expect(score.every((v, i) => v === 255 - noise[i])).toBe(true);
  expect(errors).toEqual([]);
});

test('the Annealed Langevin sampler and the Langevin corrector run to the end', async ({
  page,
}) => {
  const errors = await open(page, '?model=mnist&class=1&guidance=2&steps=4&batch=1');
  await page.getByRole('combobox', { name: 'Sampler' }).selectOption('Annealed Langevin');
  await setNumber(page, 'Langevin steps', 2);
  await expect(page.getByTestId('langevin-hint')).toContainText('2 Langevin steps per noise level');
  await generateToEnd(page);
  // 4 noise levels × 2 Langevin steps + the final denoising call.
  await expect(page.getByTestId('step-readout')).toHaveAttribute('data-total', '9');
  const annealed = await canvasBytes(page, X_T);
  expect(new Set(annealed).size).toBeGreaterThan(2);
  await expect(page).toHaveURL(/[?&]langevin=2(&|$)/);

  // The corrector on an ordinary sampler keeps its plan (4 steps) and adds model calls.
  await page.getByRole('combobox', { name: 'Sampler' }).selectOption('DDIM');
  await setNumber(page, 'Langevin SNR', 0.1);
  await expect(page.getByTestId('langevin-hint')).toContainText('Predictor-corrector');
  await generateToEnd(page);
  await expect(page.getByTestId('step-readout')).toHaveAttribute('data-total', '4');
  expect(errors).toEqual([]);
});

test('odd classifier-guidance and Langevin URL values get a message and the defaults', async ({
  page,
}) => {
  await open(page, '?cg=lots&langevin=99&snr=0');
  const messages = page.getByRole('alert');
  await expect(messages.filter({ hasText: 'Ignored cg="lots"' })).toHaveCount(1);
  await expect(messages.filter({ hasText: 'Ignored langevin="99"' })).toHaveCount(1);
  await expect(messages.filter({ hasText: 'Ignored snr="0"' })).toHaveCount(1);
  await expect(
    page.getByRole('spinbutton', { name: 'Classifier guidance', exact: true }),
  ).toHaveValue('0');
  await expect(page.getByRole('spinbutton', { name: 'Langevin steps', exact: true })).toHaveValue(
    '0',
  );
});

test('the linear-schedule model sits beside the cosine one: menu, forward process, a run', async ({
  page,
}) => {
  const errors = await open(page, '?model=mnist&steps=4&batch=1');
  const slider = page.getByLabel('Forward timestep');
  const alphaBar = page.getByTestId('forward-alpha-bar');
  await slider.fill('500');
  // Cosine: alphā_500 ≈ 0.49; linear (beta 1e-4 … 0.02): alphā_500 ≈ 0.078.
  await expect.poll(async () => Number(await alphaBar.textContent())).toBeGreaterThan(0.4);
  await page.getByRole('combobox', { name: 'Model' }).selectOption('mnist-linear');
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled({ timeout: 60_000 });
  await expect(page.getByRole('region', { name: 'Forward process' })).toContainText('linear');
  await expect.poll(async () => Number(await alphaBar.textContent())).toBeLessThan(0.1);
  await generateToEnd(page);
  const sample = await canvasBytes(page, X_T);
  expect(new Set(sample).size).toBeGreaterThan(2);
  expect(errors).toEqual([]);
});
