// Tool choice and mask commands for the Mask canvas.
import { MAX_BRUSH, MAX_FEATHER, MIN_BRUSH } from '../../source/mask';
import { useSourceStore, type Tool } from '../../state/sourceStore';

const TOOLS: Array<{ tool: Tool; label: string; title: string }> = [
  { tool: 'brush', label: 'Brush', title: 'Paint the mask: these pixels are re-imagined' },
  { tool: 'eraser', label: 'Eraser', title: 'Erase the mask: these pixels are kept' },
  { tool: 'draw', label: 'Draw', title: 'Draw white strokes onto the source image itself' },
];

export function MaskTools() {
  const tool = useSourceStore((s) => s.tool);
  const brushSize = useSourceStore((s) => s.brushSize);
  const feather = useSourceStore((s) => s.feather);
  const canUndo = useSourceStore((s) => s.undoStack.items.length > 0);
  const { setTool, setBrushSize, setFeather, clearMask, invertMask, fillMask, undo } =
    useSourceStore.getState();

  return (
    <div className="mask-tools">
      <div className="tool-buttons" role="group" aria-label="Tool">
        {TOOLS.map((t) => (
          <button
            key={t.tool}
            type="button"
            aria-pressed={tool === t.tool}
            title={t.title}
            onClick={() => setTool(t.tool)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <label>
        Brush size
        <input
          type="range"
          min={MIN_BRUSH}
          max={MAX_BRUSH}
          step={1}
          value={brushSize}
          onChange={(e) => setBrushSize(Number(e.target.value))}
        />
        <output>{brushSize} px</output>
      </label>
      <label title="Soft edge grown outward from the painted mask, so new content blends in">
        Feather
        <input
          type="range"
          min={0}
          max={MAX_FEATHER}
          step={0.5}
          value={feather}
          onChange={(e) => setFeather(Number(e.target.value))}
        />
        <output>{feather === 0 ? 'hard' : `${feather} px`}</output>
      </label>
      <div className="mask-commands">
        <button type="button" onClick={clearMask}>
          Clear mask
        </button>
        <button type="button" onClick={invertMask}>
          Invert mask
        </button>
        <button type="button" onClick={fillMask}>
          Fill mask
        </button>
        <button type="button" onClick={undo} disabled={!canUndo} title="Ctrl+Z">
          Undo
        </button>
      </div>
    </div>
  );
}
