// The mask alone, as a translucent layer over the run's frames: each image of the batch grid
// gets the same mask, in the colour and strength the source view blends it with.
import { useEffect, useRef, type CSSProperties } from 'react';
import { GRID_GAP, type GridLayout } from '../../gridImage';
import { maskSide } from '../../source/mask';
import { MASK_COLOUR, MASK_OPACITY } from '../../source/render';
import { useSourceStore } from '../../state/sourceStore';

/** RGBA of the grid with the mask tinted into every cell and everything else transparent. */
export function maskLayerRgba(mask: Float32Array, grid: GridLayout): Uint8ClampedArray {
  const out = new Uint8ClampedArray(grid.width * grid.height * 4);
  const side = maskSide(mask);
  const pitch = side + GRID_GAP;
  for (let row = 0; row < grid.rows; row++) {
    for (let col = 0; col < grid.cols; col++) {
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) {
          const m = mask[y * side + x];
          if (m <= 0) continue;
          const o = 4 * ((row * pitch + y) * grid.width + col * pitch + x);
          out[o] = MASK_COLOUR[0];
          out[o + 1] = MASK_COLOUR[1];
          out[o + 2] = MASK_COLOUR[2];
          out[o + 3] = Math.round(255 * MASK_OPACITY * m);
        }
      }
    }
  }
  return out;
}

export function MaskOverlay({ grid, style }: { grid: GridLayout; style?: CSSProperties }) {
  const mask = useSourceStore((s) => s.mask);
  const canvasRef = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const context = canvasRef.current?.getContext('2d');
    if (!context) return;
    const rgba = maskLayerRgba(mask, grid);
    context.putImageData(new ImageData(new Uint8ClampedArray(rgba), grid.width, grid.height), 0, 0);
  }, [mask, grid]);

  return (
    <canvas
      ref={canvasRef}
      className="mask-overlay"
      width={grid.width}
      height={grid.height}
      style={style}
      aria-hidden="true"
      data-testid="mask-overlay"
    />
  );
}
