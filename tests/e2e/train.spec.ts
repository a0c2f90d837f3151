import { expect, test, type Page } from '@playwright/test';

async function openTrainView(page: Page, query = ''): Promise<void> {
  await page.goto(`/${query}`);
  await page.getByRole('tab', { name: 'Train' }).click();
  await expect(page.getByTestId('train-backend')).toContainText('Training worker backend');
}

/** Draws a closed ring and a bar through it on the Data canvas with the mouse. */
async function drawShape(page: Page): Promise<void> {
  const box = await page.getByLabel('Data', { exact: true }).boundingBox();
  if (!box) throw new Error('no Data canvas');
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const r = box.width * 0.28;
  await page.mouse.move(cx + r, cy);
  await page.mouse.down();
  for (let i = 1; i <= 48; i++) {
    const a = (2 * Math.PI * i) / 48;
    await page.mouse.move(cx + r * Math.cos(a), cy + r * Math.sin(a), { steps: 2 });
  }
  await page.mouse.up();
  await page.mouse.move(cx - r * 0.7, cy - r * 1.3);
  await page.mouse.down();
  await page.mouse.move(cx + r * 0.7, cy + r * 1.3, { steps: 30 });
  await page.mouse.up();
}

async function setNumber(page: Page, label: string, value: number): Promise<void> {
  const field = page.getByLabel(label, { exact: true });
  await field.fill(String(value));
  await field.press('Enter');
  await expect(field).toHaveValue(String(value));
}

test('a drawn shape trains in the page and samples land on it', async ({ page }, testInfo) => {
  // About 30 s on this 2-core machine when it is otherwise idle; the margins are for a busy one.
  test.setTimeout(300_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await openTrainView(page);
  // Only one view's controls at a time: the playground's Pause / Step are gone.
  await expect(page.getByRole('button', { name: 'Generate' })).toHaveCount(0);
  await drawShape(page);
  await expect(page.getByLabel('Data set')).toHaveValue('drawn');
  await setNumber(page, 'Training steps', 1000);

  const started = Date.now();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const status = page.getByTestId('train-status');
  await expect(status).toHaveAttribute('data-state', 'training');
  await expect(status).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  const seconds = (Date.now() - started) / 1000;
  const backend = await status.getAttribute('data-backend');
  const speed = await status.getAttribute('data-steps-per-second');
  console.log(
    `[train] 1000 steps on ${backend} in ${seconds.toFixed(1)} s (last slice ${speed} steps/s)`,
  );
  testInfo.annotations.push({ type: 'speed', description: `${backend}: ${speed} steps/s` });
  const lossEma = Number(await page.getByTestId('loss-readout').getAttribute('data-loss-ema'));
  expect(lossEma).toBeGreaterThan(0);
  expect(lossEma).toBeLessThan(1);

  await page.getByRole('button', { name: 'Sample' }).click();
  const readout = page.getByTestId('sample-distance');
  await expect(readout).toBeVisible({ timeout: 60_000 });
  const distance = Number(await readout.getAttribute('data-distance'));
  const baseline = Number(await readout.getAttribute('data-baseline'));
  console.log(`[train] MMD: samples ${distance.toFixed(3)}, noise ${baseline.toFixed(3)}`);
  expect(distance).toBeLessThan(0.6 * baseline);

  // The reverse process can be walked frame by frame.
  const frame = page.getByTestId('sample-frame');
  await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled({ timeout: 20_000 });
  await page.getByRole('button', { name: 'Step back' }).click();
  const back = Number(await frame.getAttribute('data-frame'));
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  await expect(frame).toHaveAttribute('data-frame', String(back + 1));
  await page.screenshot({ path: testInfo.outputPath('train.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('training with nothing drawn, or one point, says why and keeps the app working', async ({
  page,
}) => {
  await openTrainView(page);
  await page.getByLabel('Data set').selectOption('drawn');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('There is no data');
  const box = await page.getByLabel('Data', { exact: true }).boundingBox();
  if (!box) throw new Error('no Data canvas');
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByRole('alert').last()).toContainText('Only 1 point');
  await expect(page.getByTestId('train-status')).toHaveAttribute('data-state', 'idle');
  // The Generate view is still there and working.
  await page.getByRole('tab', { name: 'Generate' }).click();
  await expect(page.getByRole('button', { name: 'Generate' })).toBeVisible();
});

test('a learning rate that blows up stops with a message and keeps the last good weights', async ({
  page,
}) => {
  await openTrainView(page);
  test.setTimeout(180_000);
  await setNumber(page, 'Learning rate', 10);
  await setNumber(page, 'Particles', 200);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByTestId('train-status')).toHaveAttribute('data-state', 'diverged', {
    timeout: 30_000,
  });
  await expect(page.getByRole('alert')).toContainText('diverged');
  await expect(page.getByRole('alert')).toContainText('were kept');
  // The kept weights still sample (finite numbers, a distance).
  await page.getByRole('button', { name: 'Sample' }).click();
  await expect(page.getByTestId('sample-distance')).toBeVisible({ timeout: 90_000 });
});

test('the training worker takes the backend named in the URL (webgl) and reports its speed', async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  await openTrainView(page, '?backend=webgl');
  const status = page.getByTestId('train-status');
  await expect(status).toHaveAttribute('data-backend', 'webgl');
  await setNumber(page, 'Training steps', 30);
  const started = Date.now();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(status).toHaveAttribute('data-state', 'done', { timeout: 200_000 });
  const seconds = (Date.now() - started) / 1000;
  const speed = await status.getAttribute('data-steps-per-second');
  console.log(`[train] 30 steps on webgl in ${seconds.toFixed(1)} s (last slice ${speed} steps/s)`);
  testInfo.annotations.push({ type: 'speed', description: `webgl: ${speed} steps/s` });
  const lossEma = Number(await page.getByTestId('loss-readout').getAttribute('data-loss-ema'));
  expect(Number.isFinite(lossEma) && lossEma > 0).toBe(true);
});
