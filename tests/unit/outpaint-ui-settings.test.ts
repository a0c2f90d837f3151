// What the Outpaint button sends and what the URL holds: the current controls on the canvas with
// the editor's image placed (its mask only in Inpaint mode), refusals with a message, and the
// canvas and offset parameters read, refused and written.
import { describe, expect, it } from 'vitest';
import {
  canvasChoices,
  knownImageOf,
  maskPlacement,
  outpaintRunSettings,
  type EditorSource,
} from '../../src/components/outpaint/outpaintRun';
import { canvasPresets } from '../../src/engine/outpaint/outpaintSettings';
import { DEFAULT_CONTROLS } from '../../src/runControls';
import { DEFAULT_CANVAS } from '../../src/state/outpaintStore';
import { urlWithCanvas } from '../../src/state/outpaintUrl';
import { readUrlSettings } from '../../src/urlSettings';

const MNIST = { imageSize: 28, channels: 1 };
const pixels = Float32Array.from({ length: 784 }, (_, i) => ((i % 7) - 3) / 3);
const mask = Float32Array.from({ length: 784 }, (_, i) => (i < 28 ? 1 : 0));
const source = (mode: EditorSource['mode']): EditorSource => ({ pixels, mask, mode });
const controls = { ...DEFAULT_CONTROLS, batchSize: 4 as const, classId: 7, seed: 10 };

/** knownImageOf's image, failing the test with its message when it refuses. */
function known(...args: Parameters<typeof knownImageOf>) {
  const image = knownImageOf(...args);
  if (typeof image === 'string') throw new Error(image);
  return image;
}

describe('the run Outpaint starts', () => {
  it('is the current controls on the canvas, the source placed at the offset', () => {
    const canvas = { width: 56, height: 28, offsetX: 28, offsetY: 0 };
    const image = known(source('none'), true, MNIST);
    const run = outpaintRunSettings(controls, MNIST, canvas, image);
    if (!('settings' in run)) throw new Error(run.problem);
    const s = run.settings;
    expect(s.outpaint).toEqual(canvas);
    expect([s.sampler, s.steps, s.guidanceScale]).toEqual(['DPM++ 2M', 20, 3]);
    expect(s.seeds).toEqual([10, 11, 12, 13]);
    expect(s.classes).toEqual([7, 7, 7, 7]);
    expect(s.img2img).toBeNull();
    expect(s.inpaint!.mask).toHaveLength(56 * 28);
    // Row 5: generated on the left, the source kept on the right.
    expect(s.inpaint!.mask[5 * 56 + 27]).toBe(1);
    expect(s.inpaint!.mask[5 * 56 + 28]).toBe(0);
    expect(s.inpaint!.pixels[5 * 56 + 30]).toBe(pixels[5 * 28 + 2]);
  });

  it('re-imagines the painted part of the source in Inpaint mode', () => {
    const image = known(source('inpaint'), true, MNIST);
    const run = outpaintRunSettings(controls, MNIST, DEFAULT_CANVAS, image);
    if (!('settings' in run)) throw new Error(run.problem);
    expect(run.settings.inpaint!.mask[3]).toBe(1); // painted row 0 of the source
    expect(run.settings.inpaint!.mask[56 + 3]).toBe(0);
  });

  it('places later mask edits on the canvas, only for a run that follows the mask', () => {
    const canvas = { ...DEFAULT_CANVAS, offsetX: 28 };
    expect(maskPlacement(canvas, MNIST, known(source('none'), true, MNIST))).toBeNull();
    const place = maskPlacement(canvas, MNIST, known(source('inpaint'), true, MNIST))!;
    const edited = Float32Array.from({ length: 784 }, (_, i) => (i === 29 ? 1 : 0));
    const placed = place({ pixels, mask: edited });
    expect(placed.mask).toHaveLength(56 * 28);
    expect(placed.mask[56 + 28 + 1]).toBe(1); // source pixel (1, 1) at canvas (29, 1)
    expect(placed.mask[28]).toBe(0);
    expect(placed.mask[0]).toBe(1);
  });

  it('paints the whole canvas without a source, or when told not to place it', () => {
    expect(knownImageOf({ ...source('none'), pixels: null }, true, MNIST)).toBeNull();
    expect(knownImageOf(source('none'), false, MNIST)).toBeNull();
    const run = outpaintRunSettings(controls, MNIST, DEFAULT_CANVAS, null);
    expect('settings' in run && run.settings.inpaint).toBeNull();
  });

  it('says why it cannot run: a canvas off the model’s range, a source of another size', () => {
    const small = { ...DEFAULT_CANVAS, width: 20 };
    expect(outpaintRunSettings(controls, MNIST, small, null)).toEqual({
      problem: "The canvas must be at least the model's size, 28×28 (got 20×28)",
    });
    const huge = { width: 112, height: 112, offsetX: 0, offsetY: 0 };
    expect(outpaintRunSettings({ ...controls, batchSize: 16 }, MNIST, huge, null)).toEqual({
      problem:
        '112×112 at batch 16 is 1568 model evaluations per step, more than 320: ' +
        'choose a smaller canvas or batch size',
    });
    const square = { width: 56, height: 56, offsetX: 0, offsetY: 0 };
    expect(
      'settings' in outpaintRunSettings({ ...controls, batchSize: 16 }, MNIST, square, null),
    ).toBe(true);
    expect(knownImageOf(source('none'), true, { imageSize: 32, channels: 3 })).toMatch(
      /untick "Place the source image"/,
    );
  });

  it('lists the presets, and the current size when it is not one of them', () => {
    const presets = canvasPresets({ height: 28, width: 28 });
    expect(canvasChoices(presets, DEFAULT_CANVAS).map((c) => c.label)).toEqual([
      '56×28',
      '28×56',
      '56×56',
      '84×28',
      '112×28',
    ]);
    expect(canvasChoices(presets, { width: 40, height: 30 }).at(-1)!.label).toBe('40×30');
  });
});

describe('the canvas in the URL', () => {
  it('reads canvas=WxH and offset=x,y, and refuses odd values with a message', () => {
    const url = readUrlSettings('?canvas=56x56&offset=14,28');
    expect(url.canvas).toEqual({ width: 56, height: 56 });
    expect(url.offset).toEqual({ x: 14, y: 28 });
    expect(url.warnings).toEqual([]);
    const odd = readUrlSettings('?canvas=56&offset=-1,2');
    expect(odd.canvas).toBeUndefined();
    expect(odd.offset).toBeUndefined();
    expect(odd.warnings).toEqual([
      'Ignored canvas="56" in the URL: use width x height, e.g. 56x28, each 1 to 512.',
      'Ignored offset="-1,2" in the URL: use x,y in pixels, e.g. 28,0.',
    ]);
    expect(readUrlSettings('?canvas=9999x28').warnings[0]).toMatch(/^Ignored canvas="9999x28"/);
  });

  it('writes them only when they differ from the defaults, keeping the other parameters', () => {
    const base = 'http://x/?steps=5';
    expect(urlWithCanvas(base, DEFAULT_CANVAS, DEFAULT_CANVAS)).toBe(base);
    const moved = urlWithCanvas(base, { ...DEFAULT_CANVAS, offsetX: 28 }, DEFAULT_CANVAS);
    expect(moved).toBe('http://x/?steps=5&offset=28%2C0');
    const sized = { width: 28, height: 56, offsetX: 0, offsetY: 0 };
    expect(urlWithCanvas(moved, sized, DEFAULT_CANVAS)).toBe('http://x/?steps=5&canvas=28x56');
  });
});
