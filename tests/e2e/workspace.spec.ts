// The workspace as a new user meets it: at a laptop's 1366×768 the image, Generate, the class,
// guidance, steps and the timeline are in view without scrolling; nothing runs off the screen
// from a 390 px phone to 2560 px; the mask is painted on the main view itself, with the mouse and
// with a finger, and an inpainting run changes the masked part under the translucent mask.
// UPDATE_SCREENSHOT=1 refreshes the README's pictures (docs/workspace-*.png).
import { copyFileSync, mkdirSync } from 'node:fs';
import { expect, test, type Locator, type Page, type TestInfo } from '@playwright/test';

const SIZE = 28;
const EXAMPLE = 'MNIST test #3 (0)';

// eslint-disable-next-line no-empty-pattern -- Playwright passes fixtures first; none are used
test.beforeEach(({}, testInfo) => {
  test.skip(testInfo.project.name !== 'default', 'the layout is the same on every backend');
});

/** RGBA of a canvas found by its accessible name. */
async function canvasRgba(page: Page, name: string): Promise<number[]> {
  return page.evaluate((label) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`canvas[aria-label="${label}"]`);
    if (!canvas) throw new Error(`no canvas ${label}`);
    const context = canvas.getContext('2d')!;
    return Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data);
  }, name);
}

async function openApp(page: Page, query = '') {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`/${query}`);
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeEnabled({
    timeout: 60_000,
  });
  return errors;
}

/** Saves a screenshot as a test output and, when asked, as the README's docs/<name>.png. */
async function picture(page: Page, testInfo: TestInfo, name: string) {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path });
  if (process.env.UPDATE_SCREENSHOT === '1' && testInfo.project.name === 'default') {
    mkdirSync('docs', { recursive: true });
    copyFileSync(path, `docs/${name}.png`);
  }
}

/**
 * The controls a person needs for a run, by role and exact accessible name (within the run's
 * own regions: other panels have Steps and Step of their own).
 */
function keyControls(page: Page): Record<string, Locator> {
  const run = page.getByRole('group', { name: 'Run', exact: true });
  const settings = page.getByRole('complementary', { name: 'Settings', exact: true });
  const button = (name: string) => run.getByRole('button', { name, exact: true });
  return {
    'main view': page.getByRole('img', { name: 'Noisy sample x_t' }),
    'mask layer': page.getByRole('img', { name: 'Mask' }),
    Generate: button('Generate'),
    Pause: button('Pause'),
    Step: button('Step'),
    'Step back': button('Step back'),
    Cancel: button('Cancel'),
    Model: settings.getByRole('combobox', { name: 'Model', exact: true }),
    Class: settings.getByRole('combobox', { name: 'Class', exact: true }),
    'Guidance scale': settings.getByRole('spinbutton', { name: 'Guidance scale', exact: true }),
    'Guidance scale slider': settings.getByRole('slider', { name: 'Guidance scale', exact: true }),
    Steps: settings.getByRole('spinbutton', { name: 'Steps', exact: true }),
    'Steps slider': settings.getByRole('slider', { name: 'Steps', exact: true }),
    Timeline: page.getByRole('slider', { name: 'Timeline', exact: true }),
    'Brush size': page.getByRole('slider', { name: 'Brush size', exact: true }),
  };
}

/** Fails unless the element lies wholly inside the viewport as it is now (no scrolling). */
async function expectInView(page: Page, name: string, locator: Locator) {
  const box = await locator.boundingBox();
  const viewport = page.viewportSize()!;
  expect(box, `${name} is laid out`).not.toBeNull();
  expect(box!.width, `${name} has a size`).toBeGreaterThan(0);
  expect(box!.x, `${name} left edge`).toBeGreaterThanOrEqual(0);
  expect(box!.y, `${name} top edge`).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width, `${name} right edge`).toBeLessThanOrEqual(viewport.width + 0.5);
  expect(box!.y + box!.height, `${name} bottom edge`).toBeLessThanOrEqual(viewport.height + 0.5);
}

/** No horizontal scrolling, and no element wider than the window sticking out on the right. */
async function expectNoHorizontalOverflow(page: Page) {
  const overflow = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll<HTMLElement>('body *')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        // Folded panels keep their boxes but show nothing: only what can be seen counts.
        return r.width > 0 && r.right > width + 0.5 && el.checkVisibility();
      })
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
    return { scroll: document.documentElement.scrollWidth - width, wide: wide.slice(0, 5) };
  });
  expect(overflow.wide, 'elements past the right edge').toEqual([]);
  expect(overflow.scroll, 'horizontal scroll').toBeLessThanOrEqual(0);
}

/** A mouse stroke on the main view's Mask layer between two points in image pixels. */
async function mouseStroke(page: Page, from: [number, number], to: [number, number]) {
  const box = (await page.getByRole('img', { name: 'Mask' }).boundingBox())!;
  const at = ([x, y]: [number, number]) =>
    [box.x + (x / SIZE) * box.width, box.y + (y / SIZE) * box.height] as const;
  await page.mouse.move(...at(from));
  await page.mouse.down();
  await page.mouse.move(...at(to), { steps: 6 });
  await page.mouse.up();
}

const maskCount = async (page: Page) =>
  Number(await page.getByRole('img', { name: 'Mask' }).getAttribute('data-mask-count'));

test('at 1366×768 the image and the run controls are in view; nothing overflows at 2560×1440', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1366, height: 768 });
  const errors = await openApp(page);
  for (const [name, locator] of Object.entries(keyControls(page))) {
    await expectInView(page, name, locator);
  }
  // The page itself does not scroll at all at this size.
  const scroll = await page.evaluate(() => ({
    x: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    y: document.documentElement.scrollHeight - document.documentElement.clientHeight,
  }));
  expect(scroll).toEqual({ x: 0, y: 0 });
  await expectNoHorizontalOverflow(page);
  // The main view is the largest thing on the page: at least 400 px square here.
  const view = (await page.getByRole('img', { name: 'Mask' }).boundingBox())!;
  expect(Math.min(view.width, view.height)).toBeGreaterThanOrEqual(400);
  // Every control's name is its label alone (the label does not wrap the control).
  const settings = page.getByRole('complementary', { name: 'Settings', exact: true });
  await expect(settings.getByRole('combobox', { name: 'Model', exact: true })).toBeVisible();
  await expect(settings.getByRole('combobox', { name: 'Sampler', exact: true })).toBeVisible();
  await expect(page.getByRole('combobox', { name: 'Backend', exact: true })).toBeVisible();

  // Between phone and wide: panels under the image, still nothing past the right edge.
  await page.setViewportSize({ width: 1024, height: 768 });
  await expectNoHorizontalOverflow(page);

  await page.setViewportSize({ width: 2560, height: 1440 });
  for (const [name, locator] of Object.entries(keyControls(page))) {
    await expectInView(page, name, locator);
  }
  await expectNoHorizontalOverflow(page);
  expect(errors).toEqual([]);
});

test('pick a source, paint on the main view, Generate: the masked part changes under the mask', async ({
  page,
}, testInfo) => {
  await page.setViewportSize({ width: 1366, height: 768 });
  const errors = await openApp(page, '?batch=1&steps=12&seed=3&class=8');
  const stage = page.locator('.stage');
  await page.getByRole('button', { name: EXAMPLE, exact: true }).click();
  await page.getByRole('radio', { name: 'Inpaint' }).check();
  await expect(stage).toHaveAttribute('data-shows', 'source');
  const source = await canvasRgba(page, 'Mask');

  // Brush size by keys: ] grows it, [ shrinks it; the wheel with Alt too.
  const brush = page.getByRole('slider', { name: 'Brush size', exact: true });
  await brush.fill('2');
  await page.getByRole('heading', { name: 'Diffusion Playground' }).click();
  await page.keyboard.press(']');
  await page.keyboard.press(']');
  await expect(brush).toHaveValue('4');
  await page.keyboard.press('[');
  await expect(brush).toHaveValue('3');
  const mask = page.getByRole('img', { name: 'Mask' });
  const box = (await mask.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.keyboard.down('Alt');
  await page.mouse.wheel(0, -100);
  await page.keyboard.up('Alt');
  await expect(brush).toHaveValue('4');

  // Paint the top third of the digit with the mouse; undo and redo by keys.
  for (let y = 2; y <= 9; y += 3) await mouseStroke(page, [1, y], [27, y]);
  const painted = await maskCount(page);
  expect(painted).toBeGreaterThan(150);
  await page.keyboard.press('Control+z');
  expect(await maskCount(page)).toBeLessThan(painted);
  await page.keyboard.press('Control+Shift+z');
  expect(await maskCount(page)).toBe(painted);
  await picture(page, testInfo, 'workspace-paint');

  // Generate: the run's frames replace the source and the mask stays over them.
  const before = await canvasRgba(page, 'Mask');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(stage).toHaveAttribute('data-shows', 'run');
  const overlay = page.getByTestId('mask-overlay');
  await expect(overlay).toBeVisible();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 90_000,
  });
  await picture(page, testInfo, 'workspace-inpaint');

  // The kept part matches the source; under the mask the model drew something new.
  const result = await canvasRgba(page, 'Noisy sample x_t');
  const maskData = await canvasRgba(page, 'Mask');
  expect(maskData).toEqual(before);
  let changed = 0;
  for (let i = 0; i < SIZE * SIZE; i++) {
    // The Mask canvas tints masked pixels towards red (r well above g).
    const masked = maskData[4 * i] - maskData[4 * i + 1] > 40;
    const diff = Math.abs(result[4 * i] - source[4 * i]);
    if (!masked) expect(diff, `kept pixel ${i}`).toBeLessThanOrEqual(1);
    else if (diff > 16) changed++;
  }
  expect(changed).toBeGreaterThan(20);

  // The mask layer can be hidden, and the source shown again.
  await page.getByRole('button', { name: 'Hide mask', exact: true }).click();
  await expect(overlay).toHaveCount(0);
  await page.getByRole('button', { name: 'Hide mask', exact: true }).click();
  await expect(overlay).toBeVisible();
  await page.getByRole('button', { name: 'Show source', exact: true }).click();
  await expect(stage).toHaveAttribute('data-shows', 'source');
  expect(errors).toEqual([]);
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });

  test('nothing runs off a 390 px screen and a finger paints the mask', async ({
    page,
  }, testInfo) => {
    const errors = await openApp(page);
    await expectNoHorizontalOverflow(page);
    // The image comes first, with Generate above it.
    await expectInView(
      page,
      'Generate',
      page.getByRole('button', { name: 'Generate', exact: true }),
    );
    await expectInView(page, 'main view', page.getByRole('img', { name: 'Mask' }));
    const model = page.getByRole('combobox', { name: 'Model', exact: true });
    const modelBox = (await model.boundingBox())!;
    expect(modelBox.x + modelBox.width).toBeLessThanOrEqual(390);

    await page.getByRole('button', { name: EXAMPLE, exact: true }).click();
    await page.getByRole('radio', { name: 'Inpaint' }).check();
    const mask = page.getByRole('img', { name: 'Mask' });
    await mask.scrollIntoViewIfNeeded();
    const box = (await mask.boundingBox())!;
    // A real touch drag (touchstart, touchmove, touchend), as Chromium gets it from a screen.
    const cdp = await page.context().newCDPSession(page);
    const touch = async (type: 'touchStart' | 'touchMove' | 'touchEnd', x: number, y: number) =>
      cdp.send('Input.dispatchTouchEvent', {
        type,
        touchPoints: type === 'touchEnd' ? [] : [{ x, y, id: 1 }],
      });
    const y = box.y + box.height * (5.5 / SIZE);
    await touch('touchStart', box.x + box.width * 0.1, y);
    for (let i = 1; i <= 8; i++) await touch('touchMove', box.x + box.width * (0.1 + i * 0.1), y);
    await touch('touchEnd', 0, 0);
    expect(await maskCount(page)).toBeGreaterThan(20);
    // The page did not scroll sideways while the finger moved.
    expect(await page.evaluate(() => window.scrollX)).toBe(0);
    await expectNoHorizontalOverflow(page);
    await picture(page, testInfo, 'workspace-phone');
    expect(errors).toEqual([]);
  });
});

test.describe('in the dark', () => {
  test.use({ colorScheme: 'dark', viewport: { width: 1366, height: 768 } });

  test('the dark theme follows the system setting', async ({ page }, testInfo) => {
    await openApp(page);
    const colours = await page.evaluate(() => ({
      background: getComputedStyle(document.documentElement).backgroundColor,
      text: getComputedStyle(document.documentElement).color,
    }));
    // A dark page with light text (luminance of "rgb(r, g, b)").
    const luminance = (rgb: string) => {
      const [r, g, b] = rgb.match(/\d+/g)!.map(Number);
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    expect(luminance(colours.background)).toBeLessThan(60);
    expect(luminance(colours.text)).toBeGreaterThan(180);
    await picture(page, testInfo, 'workspace-dark');
  });
});
