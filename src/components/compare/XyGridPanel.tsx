import { useEffect, useRef } from 'react';
import { DEFAULT_AXIS_VALUES, type AxisKey } from '../../compare/axisSettings';
import { MAX_AXIS_VALUES, renderXyGrid } from '../../compare/xyGrid';
import { drawXyGrid } from '../../compare/xyGridImage';
import { downloadBlob } from '../../exportPng';
import { useAppStore } from '../../store';
import { useXyStore } from '../../state/compareXyStore';
import { AxisSelect, TextField } from './AxisFields';

function canvasPng(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error('PNG encoding failed'))),
      'image/png',
    ),
  );
}

/**
 * AUTOMATIC1111's X/Y plot: a setting per axis with comma-separated values, every combination
 * rendered from the main controls and seed, drawn as one labelled image that exports as a PNG.
 */
export function XyGridPanel() {
  const hasModel = useAppStore((s) => s.model !== null);
  const modelId = useAppStore((s) => s.model?.id ?? 'model');
  const seed = useAppStore((s) => s.controls.seed);
  const addMessage = useAppStore((s) => s.addMessage);
  const { xSetting, xText, ySetting, yText, status, cellsDone, picture, problem } = useXyStore();
  const { setAxis, setText } = useXyStore.getState();
  const canvas = useRef<HTMLCanvasElement>(null);
  const total = picture?.cells.length ?? 0;

  useEffect(() => {
    if (canvas.current && picture) drawXyGrid(canvas.current, picture);
  }, [picture]);

  const pick = (axis: 'x' | 'y', key: AxisKey) =>
    setAxis(axis, key, DEFAULT_AXIS_VALUES[key].slice(0, 2).join(', '));

  const exportGrid = () => {
    if (!canvas.current) return;
    canvasPng(canvas.current)
      .then((blob) => downloadBlob(blob, `${modelId}-seed${seed}-xy-grid.png`))
      .catch((err: Error) => addMessage(`Could not export the X/Y grid: ${err.message}`));
  };

  return (
    <section className="xy-panel" aria-label="X/Y grid">
      <p className="hint">
        One setting per axis, values separated by commas (at most {MAX_AXIS_VALUES} each); every
        combination from the same seed.
      </p>
      <div className="xy-fields">
        <AxisSelect label="X axis" value={xSetting} onChange={(key) => pick('x', key)} />
        <TextField label="X values" value={xText} onChange={(text) => setText('x', text)} />
        <AxisSelect label="Y axis" value={ySetting} onChange={(key) => pick('y', key)} />
        <TextField label="Y values" value={yText} onChange={(text) => setText('y', text)} />
      </div>
      <div className="xy-buttons">
        <button type="button" disabled={!hasModel} onClick={() => void renderXyGrid()}>
          Render X/Y grid
        </button>
        <button type="button" disabled={status !== 'done'} onClick={exportGrid}>
          Export X/Y grid
        </button>
        <span data-testid="xy-status" data-status={status} data-cells-done={cellsDone}>
          {status === 'rendering' ? `Rendering: ${cellsDone} of ${total} images` : ''}
          {status === 'done' ? `${total} images` : ''}
        </span>
      </div>
      {problem && (
        <p role="alert" className="xy-problem">
          {problem}
        </p>
      )}
      {picture && (
        <canvas ref={canvas} className="xy-canvas" role="img" aria-label="X/Y grid image" />
      )}
    </section>
  );
}
