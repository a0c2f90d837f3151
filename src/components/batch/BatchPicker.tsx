import { useEffect, useRef, useState } from 'react';
import { gridLayout } from '../../gridImage';
import { useAppStore } from '../../store';
import { useSourceStore } from '../../state/sourceStore';
import { sourceFromFrame } from '../upscale/upscaleSources';
import { useUpscaleStore } from '../upscale/upscaleStore';
import type { FrameData } from '../../worker/protocol';
import { batchImageAsSource } from './batchSource';
import './batch.css';

/** One image of the frame's x_t, drawn at its own size (CSS enlarges it, pixelated). */
function Thumbnail({ frame, index }: { frame: FrameData; index: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!context) return;
    const { width, height, channels } = frame;
    const size = width * height * channels;
    const bytes = new Uint8Array(frame.sample, index * size, size);
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let p = 0; p < width * height; p++) {
      const gray = channels < 3;
      rgba[p * 4] = bytes[p * channels];
      rgba[p * 4 + 1] = bytes[p * channels + (gray ? 0 : 1)];
      rgba[p * 4 + 2] = bytes[p * channels + (gray ? 0 : 2)];
      rgba[p * 4 + 3] = 255;
    }
    context.putImageData(new ImageData(rgba, width, height), 0, 0);
  }, [frame, index]);
  return (
    <canvas
      ref={canvas}
      className="batch-thumb"
      width={frame.width}
      height={frame.height}
      aria-hidden="true"
    />
  );
}

/**
 * The batch of the frame on show as a grid of buttons: a click makes that image the source of
 * the next img2img / inpainting run and of the upscale stage ("use this"). The mask, strength
 * and run settings stay; with no source mode chosen yet it switches to img2img, the mode that
 * uses a source as it is.
 */
export function BatchPicker() {
  const frame = useAppStore((s) => s.frames[s.currentFrame] ?? null);
  const [note, setNote] = useState<string | null>(null);
  if (!frame) return null;

  const use = (index: number) => {
    const result = batchImageAsSource(frame, index);
    if (!result.ok) {
      setNote(`Image ${index + 1} cannot be a source: ${result.problem}.`);
      return;
    }
    const label = `Generated image ${index + 1} (step ${frame.step} of ${frame.totalSteps})`;
    // The upscale stage takes it too, where its size suits the super-resolution model.
    const lowRes = sourceFromFrame(result.single, label);
    if (lowRes) useUpscaleStore.getState().set({ source: lowRes });
    const source = useSourceStore.getState();
    source.setSource(result.pixels, label);
    const after = useSourceStore.getState();
    if (after.error) {
      setNote(`Image ${index + 1} cannot be a source: ${after.error}.`);
      return;
    }
    if (after.mode === 'none') after.setMode('img2img');
    const mode = useSourceStore.getState().mode === 'inpaint' ? 'inpainting' : 'img2img';
    const also = lowRes ? ' and the upscale stage' : '';
    setNote(`Image ${index + 1} is now the source for the next ${mode} run${also}.`);
  };

  return (
    <section className="batch-picker" aria-label="Batch">
      <h2>Use as source</h2>
      <div
        className="batch-grid"
        style={{ gridTemplateColumns: `repeat(${columns(frame)}, minmax(0, 5.5rem))` }}
      >
        {Array.from({ length: frame.batch }, (_, i) => (
          <button type="button" key={i} className="batch-item" onClick={() => use(i)}>
            <Thumbnail frame={frame} index={i} />
            <span>Use image {i + 1} as source</span>
          </button>
        ))}
      </div>
      <p className="batch-note" role="status">
        {note}
      </p>
    </section>
  );
}

/** The same columns as the x_t grid, so image N sits where it sits there. */
function columns(frame: FrameData): number {
  return gridLayout(frame.batch, frame.height, frame.width).cols;
}
