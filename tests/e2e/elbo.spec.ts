// The ELBO panel, as a person uses it: pick a test example, compute its bound in bits per
// dimension with a few timesteps on the real MNIST model, and see the parts and the L_t plot.
import { expect, test, type Page } from '@playwright/test';

const EXAMPLE = 'MNIST test #3 (0)';

async function openPanel(page: Page) {
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeEnabled({
    timeout: 60_000,
  });
  await page.getByText('ELBO (bits per dimension)', { exact: true }).click();
}

/** Pixels of the plot canvas that are not its white background. */
async function inkedPixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('canvas[aria-label="L_t over t"]');
    if (!canvas) throw new Error('no plot');
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] < 600) inked++;
    return inked;
  });
}

test('the ELBO of a test example: a plausible bits/dim, its parts and the L_t plot', async ({
  page,
}) => {
  await openPanel(page);
  await page.getByRole('button', { name: EXAMPLE, exact: true }).click();
  await page.getByRole('combobox', { name: 'Image', exact: true }).selectOption('source');
  await page.getByRole('combobox', { name: 'Timesteps', exact: true }).selectOption('10');
  await expect(page.getByTestId('elbo-image')).toContainText('conditioned on class 0');
  await page.getByRole('button', { name: 'Compute ELBO', exact: true }).click();

  const readout = page.getByRole('status', { name: 'Bits per dimension', exact: true });
  await expect(readout).toHaveAttribute('data-bits-per-dim', /\d/, { timeout: 60_000 });
  const bpd = Number(await readout.getAttribute('data-bits-per-dim'));
  expect(Number.isFinite(bpd)).toBe(true);
  expect(bpd).toBeGreaterThan(0.5);
  expect(bpd).toBeLessThan(8);
  await expect(readout).toHaveAttribute('data-variance', 'fixed_small');
  await expect(page.locator('.elbo-result')).toContainText('10 of 999 KL terms');
  await expect(page.locator('.elbo-result')).toContainText('L_0 (decoder)');
  const other = Number(await page.getByTestId('elbo-other-variance').textContent());
  expect(Number.isFinite(other)).toBe(true);

  const plot = page.getByRole('img', { name: 'L_t over t', exact: true });
  await expect(plot).toBeVisible();
  expect(Number(await plot.getAttribute('data-points'))).toBeGreaterThanOrEqual(9);
  expect(await inkedPixels(page)).toBeGreaterThan(500);

  // The unconditional bound is a different number from the same panel.
  await page
    .getByRole('combobox', { name: 'Conditioning', exact: true })
    .selectOption('unconditional');
  await page.getByRole('button', { name: 'Compute ELBO', exact: true }).click();
  await expect(page.locator('.elbo-result')).toContainText('unconditional', { timeout: 60_000 });
  const unconditional = Number(await readout.getAttribute('data-bits-per-dim'));
  expect(unconditional).toBeGreaterThan(0.5);
  expect(unconditional).toBeLessThan(8);
  expect(unconditional).not.toBe(bpd);
});

test('asking for a generated sample before any run says so and keeps the app working', async ({
  page,
}) => {
  await openPanel(page);
  await page.getByRole('combobox', { name: 'Image', exact: true }).selectOption('sample');
  await expect(page.getByTestId('elbo-image')).toContainText('There is no generated sample yet');
  await page.getByRole('button', { name: 'Compute ELBO', exact: true }).click();
  await expect(page.getByRole('status', { name: 'ELBO progress', exact: true })).toContainText(
    'There is no generated sample yet',
  );
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeEnabled();
});

test('the full sum shows its progress and Cancel ELBO stops it', async ({ page }) => {
  await openPanel(page);
  await page.getByRole('button', { name: EXAMPLE, exact: true }).click();
  await page.getByRole('combobox', { name: 'Image', exact: true }).selectOption('source');
  await page.getByRole('combobox', { name: 'Timesteps', exact: true }).selectOption('all');
  await page.getByRole('button', { name: 'Compute ELBO', exact: true }).click();
  const progress = page.getByRole('status', { name: 'ELBO progress', exact: true });
  await expect(progress).toContainText(/Computing: \d+ \/ 1000 model evaluations/);
  await page.getByRole('button', { name: 'Cancel ELBO', exact: true }).click();
  await expect(progress).toHaveText('');
  await expect(page.getByRole('button', { name: 'Compute ELBO', exact: true })).toBeEnabled();
  await expect(page.getByRole('status', { name: 'Bits per dimension', exact: true })).toHaveCount(
    0,
  );
  // The worker is free again: a small estimate completes.
  await page.getByRole('combobox', { name: 'Timesteps', exact: true }).selectOption('10');
  await page.getByRole('button', { name: 'Compute ELBO', exact: true }).click();
  await expect(
    page.getByRole('status', { name: 'Bits per dimension', exact: true }),
  ).toHaveAttribute('data-bits-per-dim', /\d/, { timeout: 60_000 });
});

test('the ELBO of the last generated sample', async ({ page }) => {
  await openPanel(page);
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 90_000,
  });
  await page.getByRole('combobox', { name: 'Image', exact: true }).selectOption('sample');
  await expect(page.getByTestId('elbo-image')).toContainText('generated sample 1');
  await page.getByRole('combobox', { name: 'Timesteps', exact: true }).selectOption('10');
  await page.getByRole('button', { name: 'Compute ELBO', exact: true }).click();
  const readout = page.getByRole('status', { name: 'Bits per dimension', exact: true });
  await expect(readout).toHaveAttribute('data-bits-per-dim', /\d/, { timeout: 60_000 });
  const bpd = Number(await readout.getAttribute('data-bits-per-dim'));
  // Looser than for test images: a sampler's output leaves most of the background a few levels
  // above black (bytes 1-9, where MNIST has 0), which the discretised decoder and the small-t
  // terms charge for; 20-step DPM++ samples measure 3-11 bits/dim here against 1-2 for test images.
  expect(bpd).toBeGreaterThan(0.5);
  expect(bpd).toBeLessThan(30);
  await expect(page.locator('.elbo-result')).toContainText('generated sample 1 (step');
});
