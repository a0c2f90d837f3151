// The two halves of MultiDiffusion's fusion on tensors: cut every window out of a batch of
// canvases, and put per-window results back, averaged per pixel over the windows that cover it.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor4D } from '@tensorflow/tfjs-core';
import { coverageCounts, windowGrid, type WindowOrigin } from './windows';

export class WindowLayout {
  readonly windows: readonly WindowOrigin[];
  /** 1 / (windows covering the pixel), row-major over the canvas. */
  private readonly weights: Float32Array;

  constructor(
    readonly canvas: { height: number; width: number },
    readonly window: { height: number; width: number },
  ) {
    this.windows = windowGrid(canvas, window);
    this.weights = coverageCounts(canvas, window, this.windows).map((n) => 1 / n);
  }

  /** [windows × N, h, w, C], window-major: rows k·N .. k·N + N - 1 are window k of each image. */
  crop(x: Tensor4D): Tensor4D {
    const [batch, , , channels] = x.shape;
    const { height, width } = this.window;
    return tf.tidy(
      () =>
        tf.concat(
          this.windows.map(({ y, x: left }) =>
            tf.slice(x, [0, y, left, 0], [batch, height, width, channels]),
          ),
        ) as Tensor4D,
    );
  }

  /** The inverse of crop for per-window results: placed back and averaged per pixel. */
  blend(perWindow: Tensor4D): Tensor4D {
    const channels = perWindow.shape[3];
    const batch = perWindow.shape[0] / this.windows.length;
    const { height, width } = this.window;
    const { height: canvasH, width: canvasW } = this.canvas;
    return tf.tidy(() => {
      const placed = this.windows.map(({ y, x: left }, k) =>
        tf.pad(tf.slice(perWindow, [k * batch, 0, 0, 0], [batch, height, width, channels]), [
          [0, 0],
          [y, canvasH - height - y],
          [left, canvasW - width - left],
          [0, 0],
        ]),
      );
      const sum = placed.length === 1 ? placed[0] : tf.addN(placed);
      return tf.mul(sum, tf.tensor4d(this.weights, [1, canvasH, canvasW, 1])) as Tensor4D;
    });
  }

  /** A per-image list (timesteps, classes) repeated for every window, in crop's order. */
  repeat<T>(perImage: readonly T[]): T[] {
    return this.windows.flatMap(() => perImage);
  }
}
