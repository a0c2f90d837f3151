// The main view's painting tools (tool, brush size, history, mask on or hidden), the mask
// commands beside the source (clear, invert, fill, feather), and what the view shows (source or
// run). Keys: [ and ] size the brush, Ctrl+Z and Ctrl+Shift+Z undo and redo (useMaskKeys); the
// wheel with Ctrl, Alt or Shift over the view sizes the brush too (MainView).
import { useId } from 'react';
import { MAX_BRUSH, MAX_FEATHER, MIN_BRUSH } from '../../source/mask';
import { useSourceStore, type Tool } from '../../state/sourceStore';
import { useStageStore } from '../../state/stageStore';
import { useAppStore } from '../../store';

const TOOLS: Array<{ tool: Tool; label: string; title: string }> = [
  { tool: 'brush', label: 'Brush', title: 'Paint the mask: these pixels are re-imagined' },
  { tool: 'eraser', label: 'Eraser', title: 'Erase the mask: these pixels are kept' },
  { tool: 'draw', label: 'Draw', title: 'Draw white strokes onto the source image itself' },
];

function BrushSize() {
  const id = useId();
  const brushSize = useSourceStore((s) => s.brushSize);
  const setBrushSize = useSourceStore((s) => s.setBrushSize);
  return (
    <div className="tool-field" title="Brush size: [ and ], or the wheel with Ctrl, Alt or Shift">
      <label htmlFor={id}>Brush size</label>
      <input
        id={id}
        type="range"
        min={MIN_BRUSH}
        max={MAX_BRUSH}
        step={1}
        value={brushSize}
        onChange={(e) => setBrushSize(Number(e.target.value))}
      />
      <output htmlFor={id}>{brushSize} px</output>
    </div>
  );
}

/** The Draw tool's colour, for colour sources (grey ones are drawn in white). */
function BrushColour() {
  const id = useId();
  const brushColour = useSourceStore((s) => s.brushColour);
  const setBrushColour = useSourceStore((s) => s.setBrushColour);
  return (
    <div className="tool-field" title="Colour the Draw tool paints onto a colour source">
      <label htmlFor={id}>Brush colour</label>
      <input
        id={id}
        type="color"
        value={brushColour}
        onChange={(e) => setBrushColour(e.target.value)}
      />
    </div>
  );
}

function Feather() {
  const id = useId();
  const feather = useSourceStore((s) => s.feather);
  const setFeather = useSourceStore((s) => s.setFeather);
  return (
    <div
      className="tool-field"
      title="Soft edge grown outward from the painted mask, so new content blends in"
    >
      <label htmlFor={id}>Feather</label>
      <input
        id={id}
        type="range"
        min={0}
        max={MAX_FEATHER}
        step={0.5}
        value={feather}
        onChange={(e) => setFeather(Number(e.target.value))}
      />
      <output htmlFor={id}>{feather === 0 ? 'hard' : `${feather} px`}</output>
    </div>
  );
}

/** Source or run on the main view. */
export function ViewChoice() {
  const shows = useStageStore((s) => s.shows);
  const hasFrames = useAppStore((s) => s.frames.length > 0);
  const { show } = useStageStore.getState();
  const showingRun = hasFrames && shows === 'run';
  return (
    <div className="tool-group" role="group" aria-label="Main view shows">
      <button type="button" aria-pressed={!showingRun} onClick={() => show('source')}>
        Show source
      </button>
      <button
        type="button"
        aria-pressed={showingRun}
        disabled={!hasFrames}
        title={hasFrames ? 'The run’s frames' : 'Generate first'}
        onClick={() => show('run')}
      >
        Show run
      </button>
    </div>
  );
}

/** Clear, invert and fill the mask, and its soft edge. */
export function MaskCommands() {
  const { clearMask, invertMask, fillMask } = useSourceStore.getState();
  return (
    <div className="mask-commands" role="group" aria-label="Mask">
      <button type="button" onClick={clearMask}>
        Clear mask
      </button>
      <button type="button" onClick={invertMask}>
        Invert mask
      </button>
      <button type="button" onClick={fillMask}>
        Fill mask
      </button>
      <Feather />
    </div>
  );
}

export function MaskTools() {
  const tool = useSourceStore((s) => s.tool);
  const canUndo = useSourceStore((s) => s.undoStack.items.length > 0);
  const canRedo = useSourceStore((s) => s.redoStack.items.length > 0);
  const maskHidden = useStageStore((s) => s.maskHidden);
  const colour = useSourceStore((s) => s.geometry.channels === 3);
  const { setTool, undo, redo } = useSourceStore.getState();
  const { setMaskHidden } = useStageStore.getState();

  return (
    <div className="mask-tools" role="group" aria-label="Mask tools">
      <div className="tool-group" role="group" aria-label="Tool">
        {TOOLS.map((t) => (
          <button
            key={t.tool}
            type="button"
            aria-pressed={tool === t.tool}
            title={
              t.tool === 'draw' && colour
                ? 'Draw in the brush colour onto the source image itself'
                : t.title
            }
            onClick={() => setTool(t.tool)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <BrushSize />
      {colour && <BrushColour />}
      <div className="tool-group">
        <button type="button" onClick={undo} disabled={!canUndo} title="Ctrl+Z">
          Undo
        </button>
        <button type="button" onClick={redo} disabled={!canRedo} title="Ctrl+Shift+Z">
          Redo
        </button>
      </div>
      <button type="button" aria-pressed={maskHidden} onClick={() => setMaskHidden(!maskHidden)}>
        Hide mask
      </button>
    </div>
  );
}
