// The GIF encoder (src/export) checked by decoding its output with an independent decoder
// (tests/unit/gifDecode.ts): block layout, loop extension, delays, and exact pixels for gray
// input, including images long enough to fill the 4096-code LZW table several times.
import { describe, expect, it } from 'vitest';
import { encodeGif, GifWriter, type GifImage } from '../../src/export/gifEncoder';
import { lzwEncode } from '../../src/export/gifLzw';
import { paletteColours } from '../../src/export/gifPalette';
import { trajectoryGif } from '../../src/export/exportGif';
import {
  LAST_FRAME_MS,
  trajectoryDelays,
  trajectoryFrames,
  trajectoryLayout,
  type Rect,
} from '../../src/export/trajectory';
import type { FrameData } from '../../src/worker/protocol';
import { decodeGif, lzwDecode, type DecodedFrame } from './gifDecode';

/** Deterministic bytes (xorshift32), so a failure reproduces. */
function randomBytes(length: number, seed: number, levels = 256): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x % levels;
  }
  return out;
}

const gray = (width: number, height: number, pixels: Uint8Array): GifImage => ({
  width,
  height,
  format: 'gray',
  pixels,
});

/** The decoded frame's red channel (equal to green and blue in a gray table). */
function grayOf(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) {
    expect(rgb[i * 3 + 1]).toBe(rgb[i * 3]);
    expect(rgb[i * 3 + 2]).toBe(rgb[i * 3]);
    out[i] = rgb[i * 3];
  }
  return out;
}

describe('GIF encoder', () => {
  it('writes GIF89a with a 256-gray global table, the loop extension and a trailer', () => {
    const bytes = encodeGif([gray(3, 2, new Uint8Array([0, 1, 2, 253, 254, 255]))], [100]);
    expect(String.fromCharCode(...bytes.subarray(0, 6))).toBe('GIF89a');
    expect(bytes.at(-1)).toBe(0x3b);
    const gif = decodeGif(bytes);
    expect([gif.width, gif.height]).toEqual([3, 2]);
    expect(gif.globalTable).toEqual(paletteColours('gray'));
    expect(gif.loopCount).toBe(0);
    expect(gif.frames).toHaveLength(1);
    const [frame] = gif.frames;
    expect(frame).toMatchObject({ left: 0, top: 0, width: 3, height: 2, delayCs: 10 });
    expect(frame.localTable).toBe(false);
    expect([...grayOf(frame.rgb)]).toEqual([0, 1, 2, 253, 254, 255]);
  });

  it('round-trips random gray images of odd sizes exactly', () => {
    for (const [w, h, seed] of [
      [1, 1, 1],
      [7, 5, 2],
      [28, 28, 3],
      [57, 31, 4],
      [100, 3, 5],
    ]) {
      const pixels = randomBytes(w * h, seed);
      const gif = decodeGif(encodeGif([gray(w, h, pixels)], [50]));
      expect(gif.frames[0].indices).toEqual(pixels);
    }
  });

  it('keeps all 256 gray levels', () => {
    const pixels = new Uint8Array(256 * 3);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) % 256;
    const gif = decodeGif(encodeGif([gray(16, 48, pixels)], [10]));
    const decoded = grayOf(gif.frames[0].rgb);
    expect(decoded).toEqual(pixels);
    expect(new Set(decoded).size).toBe(256);
  });

  it('sends clear codes when the 4096-code table fills, and still round-trips', () => {
    // Random bytes make almost every code a new table entry: ~3,840 entries per table, so
    // 300×300 pixels refill the table many times.
    const w = 300;
    const h = 300;
    const pixels = randomBytes(w * h, 99);
    const gif = decodeGif(encodeGif([gray(w, h, pixels)], [10]));
    expect(gif.frames[0].clearCodes).toBeGreaterThan(5);
    expect(gif.frames[0].indices).toEqual(pixels);
    // Long runs of few levels: long strings in the table, also several clears.
    const stripes = new Uint8Array(w * h);
    for (let i = 0; i < stripes.length; i++) stripes[i] = (Math.floor(i / 3) * 37 + (i % 5)) % 256;
    const striped = decodeGif(encodeGif([gray(w, h, stripes)], [10]));
    expect(striped.frames[0].clearCodes).toBeGreaterThan(1);
    expect(striped.frames[0].indices).toEqual(stripes);
  });

  it('LZW round-trips small alphabets and the KwKwK pattern', () => {
    for (const minCodeSize of [2, 4, 8]) {
      const levels = 1 << minCodeSize;
      for (const data of [
        new Uint8Array(10_000), // one repeated symbol: every code is the entry being made
        randomBytes(20_000, minCodeSize, levels),
        new Uint8Array([]),
      ]) {
        const { indices } = lzwDecode(lzwEncode(data, minCodeSize), minCodeSize, data.length);
        expect(indices).toEqual(data);
      }
    }
    expect(() => lzwEncode(new Uint8Array([4]), 2)).toThrow(/outside a 4-colour table/);
  });

  it('writes several frames with their delays in hundredths of a second', () => {
    const frames = [1, 2, 3, 4].map((seed) => gray(20, 10, randomBytes(200, seed)));
    const delays = [100, 40, 1234, 1500];
    const gif = decodeGif(encodeGif(frames, delays, { loop: 3 }));
    expect(gif.loopCount).toBe(3);
    expect(gif.frames.map((f) => f.delayCs)).toEqual([10, 4, 123, 150]);
    expect(gif.frames.map((f) => f.disposal)).toEqual([1, 1, 1, 1]);
    gif.frames.forEach((f, i) => expect(f.indices).toEqual(frames[i].pixels));
  });

  it('takes gray RGBA as gray, and quantises colour to the 6×7×6 cube', () => {
    const rgbaGray = new Uint8Array([10, 10, 10, 255, 200, 200, 200, 0]);
    const asGray = decodeGif(
      encodeGif([{ width: 2, height: 1, format: 'rgba', pixels: rgbaGray }], [10]),
    );
    expect([...grayOf(asGray.frames[0].rgb)]).toEqual([10, 200]);

    const colour = new Uint8Array([
      255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 120, 130, 140, 255,
    ]);
    const gif = decodeGif(
      encodeGif([{ width: 4, height: 1, format: 'rgba', pixels: colour }], [10]),
    );
    expect(gif.globalTable).toEqual(paletteColours('rgb676'));
    const rgb = [...gif.frames[0].rgb];
    expect(rgb.slice(0, 9)).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255]);
    // Nearest cube level per channel: at most half a level away (25.5 for red/blue, 21.25 green).
    expect(Math.abs(rgb[9] - 120)).toBeLessThanOrEqual(26);
    expect(Math.abs(rgb[10] - 130)).toBeLessThanOrEqual(22);
    expect(Math.abs(rgb[11] - 140)).toBeLessThanOrEqual(26);
  });

  it('refuses bad input with a clear message', () => {
    expect(() => encodeGif([], [])).toThrow(/at least one frame/);
    expect(() => encodeGif([gray(2, 2, new Uint8Array(4))], [])).toThrow(/1 frames but 0 delays/);
    expect(() => encodeGif([gray(2, 2, new Uint8Array(3))], [10])).toThrow(/3 bytes for 2×2/);
    expect(() =>
      encodeGif([gray(2, 2, new Uint8Array(4)), gray(3, 2, new Uint8Array(6))], [10, 10]),
    ).toThrow(/Frame 1 is 3×2; the GIF is 2×2/);
    expect(() => encodeGif([gray(2, 2, new Uint8Array(4))], [-1])).toThrow(/delay/);
    const writer = new GifWriter(2, 2, 'gray');
    expect(() => writer.finish()).toThrow(/at least one frame/);
  });
});

/** A frame as the worker posts it: batch 1 of 28×28 gray. */
function frameOf(index: number, sample: Uint8Array, predictedX0: Uint8Array | null): FrameData {
  return {
    runId: 1,
    index,
    step: index,
    totalSteps: 4,
    timestep: 999 - index * 250,
    sigma: 1,
    batch: 1,
    height: 28,
    width: 28,
    channels: 1,
    sample: sample.slice().buffer,
    predictedX0: predictedX0 ? predictedX0.slice().buffer : null,
    predictedNoise: null,
    modelMs: 0,
    totalMs: 0,
    numTensors: 0,
    numBytes: 0,
    cause: index === 0 ? 'start' : 'run',
  };
}

/** The gray values of a panel of a decoded frame, shrunk back by `scale` (checking each block). */
function panelOf(frame: DecodedFrame, panel: Rect, scale: number): Uint8Array {
  const out = new Uint8Array(panel.width * panel.height);
  let uneven = 0;
  for (let y = 0; y < panel.height; y++) {
    for (let x = 0; x < panel.width; x++) {
      const at = (py: number, px: number) =>
        frame.rgb[((panel.y * scale + py) * frame.width + panel.x * scale + px) * 3];
      const value = at(y * scale, x * scale);
      for (let k = 0; k < scale * scale; k++) {
        if (at(y * scale + Math.floor(k / scale), x * scale + (k % scale)) !== value) uneven++;
      }
      out[y * panel.width + x] = value;
    }
  }
  expect(uneven, 'enlarged pixels that differ from their block').toBe(0);
  return out;
}

describe('trajectory export', () => {
  it('lays x_t and x_0 side by side, enlarged to about 480 pixels', () => {
    const one = trajectoryLayout(1, 28, 28);
    expect(one.xt).toMatchObject({ width: 28, height: 28 });
    expect(one.x0.x).toBeGreaterThanOrEqual(one.xt.x + 28);
    expect(one.x0.x + 28).toBeLessThanOrEqual(one.width);
    expect(one.scale).toBe(Math.floor(480 / one.width));
    const sixteen = trajectoryLayout(16, 28, 28);
    expect(sixteen.xt.width).toBe(4 * 28 + 3);
    expect(sixteen.scale).toBe(2);
  });

  it('skips a re-posted frame with the same pictures, keeping the newer step numbers', () => {
    const a = randomBytes(784, 1);
    const b = randomBytes(784, 2);
    const frames = [frameOf(0, a, null), frameOf(1, b, a), { ...frameOf(2, b, a), step: 7 }];
    const kept = trajectoryFrames(frames);
    expect(kept.map((f) => f.step)).toEqual([0, 7]);
    expect(() =>
      trajectoryFrames([frameOf(0, a, null), { ...frameOf(1, b, a), batch: 4 }]),
    ).toThrow(/different image sizes/);
  });

  it('paces frames evenly and holds the last one', () => {
    expect(trajectoryDelays(7)).toEqual([150, 150, 150, 150, 150, 150, LAST_FRAME_MS]);
    const many = trajectoryDelays(201);
    expect(new Set(many.slice(0, -1))).toEqual(new Set([20]));
    expect(many.at(-1)).toBe(LAST_FRAME_MS);
  });

  it('encodes the run as a GIF whose panels are the frames’ pictures, enlarged', async () => {
    const noise = randomBytes(784, 3);
    const middle = randomBytes(784, 4);
    const final = randomBytes(784, 5);
    const guess = randomBytes(784, 6);
    const history = [frameOf(0, noise, null), frameOf(1, middle, guess), frameOf(2, final, guess)];
    const progress: string[] = [];
    const blob = await trajectoryGif(history, (done, total) => progress.push(`${done}/${total}`));
    expect(blob.type).toBe('image/gif');
    expect(progress).toEqual(['1/3', '2/3', '3/3']);
    const gif = decodeGif(new Uint8Array(await blob.arrayBuffer()));
    const layout = trajectoryLayout(1, 28, 28);
    expect([gif.width, gif.height]).toEqual([
      layout.width * layout.scale,
      layout.height * layout.scale,
    ]);
    expect(gif.frames.map((f) => f.delayCs)).toEqual([15, 15, LAST_FRAME_MS / 10]);
    expect(panelOf(gif.frames[0], layout.xt, layout.scale)).toEqual(noise);
    expect(panelOf(gif.frames[2], layout.xt, layout.scale)).toEqual(final);
    expect(panelOf(gif.frames[2], layout.x0, layout.scale)).toEqual(guess);
    // No prediction at the start: the x_0 panel is one flat shade.
    expect(new Set(panelOf(gif.frames[0], layout.x0, layout.scale)).size).toBe(1);
    await expect(trajectoryGif([])).rejects.toThrow(/generate first/);
  });
});
