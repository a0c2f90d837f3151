// Export GIF and Export WebM on a real run: the GIF is decoded by the tests' own decoder (and
// cross-checked by Chromium's ImageDecoder); its frames are the run's trajectory and its last
// frame shows exactly the final x_t and predicted x_0 the page shows, enlarged. The WebM is
// checked to be a real, non-trivial Matroska/WebM file.
import { readFileSync } from 'node:fs';
import { expect, test, type Download, type Page } from '@playwright/test';
import { trajectoryLayout, type Rect } from '../../src/export/trajectory';
import { decodeGif, type DecodedFrame } from '../unit/gifDecode';

const X_T = 'Noisy sample x_t';
const X_0 = 'Predicted x_0';
const STEPS = 6;

/** Opens the app, collecting page errors and Content-Security-Policy refusals into one list. */
async function open(page: Page, query: string) {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.exposeFunction('reportViolation', (text: string) => errors.push(text));
  await page.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as unknown as { reportViolation(text: string): void }).reportViolation(
        `CSP refused ${e.blockedURI} (${e.effectiveDirective})`,
      ),
    ),
  );
  await page.goto(`/${query}`);
  await expect(page.getByTestId('backend-name')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled({ timeout: 60_000 });
  return errors;
}

/** The red channel of a view's canvas (the views of a gray model are gray). */
async function canvasGray(page: Page, label: string): Promise<{ width: number; gray: number[] }> {
  return page.evaluate((name) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`canvas[aria-label="${name}"]`);
    if (!canvas) throw new Error(`no canvas ${name}`);
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const gray: number[] = [];
    for (let i = 0; i < data.length; i += 4) gray.push(data[i]);
    return { width: canvas.width, gray };
  }, label);
}

async function downloaded(download: Promise<Download>): Promise<{ name: string; bytes: Buffer }> {
  const file = await download;
  return { name: file.suggestedFilename(), bytes: readFileSync(await file.path()) };
}

/**
 * Pixels of a panel of a decoded GIF frame that differ from the view's pixels enlarged by
 * `scale` (every enlarged pixel of the block must match).
 */
function panelMismatches(
  frame: DecodedFrame,
  panel: Rect,
  scale: number,
  view: { width: number; gray: number[] },
): number {
  expect(view.width).toBe(panel.width);
  expect(view.gray.length).toBe(panel.width * panel.height);
  let wrong = 0;
  for (let y = 0; y < panel.height * scale; y++) {
    for (let x = 0; x < panel.width * scale; x++) {
      const gifAt = (panel.y * scale + y) * frame.width + panel.x * scale + x;
      const expected = view.gray[Math.floor(y / scale) * panel.width + Math.floor(x / scale)];
      if (frame.rgb[gifAt * 3] !== expected) wrong++;
    }
  }
  return wrong;
}

/** Generates a short run (batch 1) and waits for its end; both export buttons start disabled. */
async function generate(page: Page, steps: number) {
  await expect(page.getByRole('button', { name: 'Export GIF' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Export WebM' })).toBeDisabled();
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 90_000,
  });
  await expect(page.getByTestId('step-readout')).toHaveAttribute('data-step', String(steps));
}

/** The view of x_t at Timeline position 0 (the starting noise); leaves the Timeline there. */
async function startingNoise(page: Page) {
  await page.getByRole('slider', { name: 'Timeline' }).fill('0');
  await expect(page.getByTestId('step-readout')).toHaveAttribute('data-step', '0');
  return canvasGray(page, X_T);
}

const QUERY = `?batch=1&steps=${STEPS}&guidance=2&seed=11&sampler=Euler`;
const layout = trajectoryLayout(1, 28, 28);

test('Export GIF holds the whole trajectory; its last frame is the final x_t and x_0', async ({
  page,
}, testInfo) => {
  const errors = await open(page, QUERY);
  await generate(page, STEPS);
  const exportGif = page.getByRole('button', { name: 'Export GIF' });
  await expect(exportGif).toBeEnabled();
  const finalXt = await canvasGray(page, X_T);
  const finalX0 = await canvasGray(page, X_0);
  // The Timeline holds the run's frames: the starting noise plus one per step that reached the UI.
  const timeline = page.getByRole('slider', { name: 'Timeline' });
  const frameCount = Number(await timeline.getAttribute('max')) + 1;
  expect(frameCount).toBeGreaterThanOrEqual(2);
  expect(frameCount).toBeLessThanOrEqual(STEPS + 1);

  const gifFile = await downloaded(
    Promise.all([page.waitForEvent('download'), exportGif.click()]).then(([d]) => d),
  );
  await testInfo.attach(gifFile.name, { body: gifFile.bytes, contentType: 'image/gif' });
  expect(gifFile.name).toBe(`mnist-seed11-${STEPS}steps.gif`);
  expect(gifFile.bytes.subarray(0, 6).toString('ascii')).toBe('GIF89a');
  const gif = decodeGif(new Uint8Array(gifFile.bytes));
  expect([gif.width, gif.height]).toEqual([
    layout.width * layout.scale,
    layout.height * layout.scale,
  ]);
  expect(layout.scale).toBeGreaterThanOrEqual(4);
  expect(gif.loopCount).toBe(0);
  expect(gif.frames.length).toBe(frameCount);
  // Every frame but the last at one pace; the last held longer.
  const delays = gif.frames.map((f) => f.delayCs ?? -1);
  expect(new Set(delays.slice(0, -1)).size).toBe(1);
  expect(delays.at(-1)).toBeGreaterThan(delays[0]);

  const last = gif.frames.at(-1)!;
  expect(panelMismatches(last, layout.xt, layout.scale, finalXt)).toBe(0);
  expect(panelMismatches(last, layout.x0, layout.scale, finalX0)).toBe(0);
  // The first frame is the starting noise the Timeline shows at 0, unlike the final image.
  const noise = await startingNoise(page);
  expect(panelMismatches(gif.frames[0], layout.xt, layout.scale, noise)).toBe(0);
  expect(panelMismatches(gif.frames[0], layout.xt, layout.scale, finalXt)).toBeGreaterThan(1000);

  // Chromium's own GIF decoder reads the same frames and pixels.
  const browserView = await page.evaluate(async (base64) => {
    const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const decoder = new ImageDecoder({ data, type: 'image/gif' });
    await decoder.tracks.ready;
    const count = decoder.tracks.selectedTrack!.frameCount;
    const { image } = await decoder.decode({ frameIndex: count - 1 });
    const canvas = new OffscreenCanvas(image.displayWidth, image.displayHeight);
    const context = canvas.getContext('2d')!;
    context.drawImage(image, 0, 0);
    image.close();
    const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const red: number[] = [];
    for (let i = 0; i < rgba.length; i += 4) red.push(rgba[i]);
    return { count, red };
  }, gifFile.bytes.toString('base64'));
  expect(browserView.count).toBe(frameCount);
  let differing = 0;
  for (let i = 0; i < browserView.red.length; i++) {
    if (browserView.red[i] !== last.rgb[i * 3]) differing++;
  }
  expect(browserView.red.length).toBe(gif.width * gif.height);
  expect(differing).toBe(0);
  await expect(page.getByRole('alert')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('Export WebM records the trajectory; Chromium plays it back', async ({ page }, testInfo) => {
  const errors = await open(page, QUERY);
  await generate(page, STEPS);
  const finalXt = await canvasGray(page, X_T);
  const noise = await startingNoise(page);
  const exportWebm = page.getByRole('button', { name: 'Export WebM' });
  await expect(exportWebm).toBeEnabled();

  // WebM: recorded in real time (a progress label while it runs), an EBML file of some size.
  const webmDownload = page.waitForEvent('download', { timeout: 60_000 });
  await exportWebm.click();
  await expect(page.getByRole('button', { name: /^WebM \d+%…$/ })).toBeDisabled();
  const webm = await downloaded(webmDownload);
  await testInfo.attach(webm.name, { body: webm.bytes, contentType: 'video/webm' });
  expect(webm.name).toBe(`mnist-seed11-${STEPS}steps.webm`);
  expect([...webm.bytes.subarray(0, 4)]).toEqual([0x1a, 0x45, 0xdf, 0xa3]);
  expect(webm.bytes.subarray(0, 64).toString('latin1')).toContain('webm');
  expect(webm.bytes.length).toBeGreaterThan(2000);
  // Chromium plays it back (in a blank page: the app's policy allows no blob: media): the
  // picture's size, and a last frame that is the final x_t up to the codec's loss.
  const player = await page.context().newPage();
  const played = await player.evaluate(
    async ({ base64, panel, scale }) => {
      const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const video = document.createElement('video');
      video.muted = true;
      video.src = URL.createObjectURL(new Blob([data], { type: 'video/webm' }));
      const ended = new Promise((resolve, reject) => {
        video.onended = resolve;
        video.onerror = () => reject(new Error(`video error ${video.error?.message}`));
      });
      await video.play();
      await ended;
      const canvas = new OffscreenCanvas(video.videoWidth, video.videoHeight);
      const context = canvas.getContext('2d')!;
      context.drawImage(video, 0, 0);
      const rgba = context.getImageData(
        panel.x * scale,
        panel.y * scale,
        panel.width * scale,
        panel.height * scale,
      ).data;
      const red: number[] = [];
      for (let i = 0; i < rgba.length; i += 4) red.push(rgba[i]);
      return { width: video.videoWidth, height: video.videoHeight, red };
    },
    { base64: webm.bytes.toString('base64'), panel: layout.xt, scale: layout.scale },
  );
  await player.close();
  const even = (n: number) => n + (n % 2);
  expect([played.width, played.height]).toEqual([
    even(layout.width * layout.scale),
    even(layout.height * layout.scale),
  ]);
  // Mean gray-level error against a view enlarged: ~1 for the final x_t, ~100 for the noise.
  const meanError = (view: { gray: number[] }) => {
    const panelWidth = layout.xt.width * layout.scale;
    let sum = 0;
    played.red.forEach((value, i) => {
      const x = Math.floor((i % panelWidth) / layout.scale);
      const y = Math.floor(Math.floor(i / panelWidth) / layout.scale);
      sum += Math.abs(value - view.gray[y * layout.xt.width + x]);
    });
    return sum / played.red.length;
  };
  expect(meanError(finalXt)).toBeLessThan(8);
  expect(meanError(noise)).toBeGreaterThan(40);
  await expect(exportWebm).toBeEnabled();
  await expect(page.getByRole('alert')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('without MediaRecorder, Export WebM is disabled and says why; Export GIF stays enabled', async ({
  page,
}) => {
  await page.addInitScript(() => {
    delete (window as { MediaRecorder?: unknown }).MediaRecorder;
  });
  const errors = await open(page, '?batch=1&steps=2&guidance=1');
  await generate(page, 2);
  await expect(page.getByRole('button', { name: 'Export GIF' })).toBeEnabled();
  const exportWebm = page.getByRole('button', { name: 'Export WebM' });
  await expect(exportWebm).toBeDisabled();
  await expect(exportWebm).toHaveAttribute('title', /no MediaRecorder/);
  expect(errors).toEqual([]);
});
