// Where the source image comes from: an example from the data sets, an uploaded picture, or a
// drawing started on black.
import { useEffect, useState, type ChangeEvent, type CSSProperties } from 'react';
import { decodeUpload } from '../../source/decodeUpload';
import { cellOrigin, exampleName, type ExampleImage } from '../../source/examplesIndex';
import { loadExamples, type LoadedExamples } from '../../source/loadExamples';
import { useSourceStore } from '../../state/sourceStore';

/** On-screen size of one example thumbnail, in CSS pixels (a whole multiple of 28). */
const THUMB = 42;

function thumbStyle(examples: LoadedExamples, example: ExampleImage): CSSProperties {
  const { index } = examples;
  const scale = THUMB / index.cellSize;
  const { x, y } = cellOrigin(index, example.cell);
  return {
    backgroundImage: `url(${examples.spriteUrl})`,
    backgroundSize: `${index.columns * THUMB}px auto`,
    backgroundPosition: `${-x * scale}px ${-y * scale}px`,
  };
}

export function SourcePicker() {
  const [examples, setExamples] = useState<LoadedExamples | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const sourceLabel = useSourceStore((s) => s.sourceLabel);
  const hasSource = useSourceStore((s) => s.pixels !== null);
  const { setSource, setError, startDrawing, invertSource } = useSourceStore.getState();

  useEffect(() => {
    let live = true;
    loadExamples().then(
      (loaded) => live && setExamples(loaded),
      (error: unknown) => live && setLoadError(`Examples could not be loaded: ${String(error)}`),
    );
    return () => {
      live = false;
    };
  }, []);

  const onUpload = async (event: ChangeEvent<HTMLInputElement>) => {
    const input = event.currentTarget;
    const file = input.files?.[0];
    if (!file) return;
    setBusy(true);
    try {
      const result = await decodeUpload(file);
      if (result.ok) setSource(result.pixels, result.label, result.note);
      else setError(result.message);
    } finally {
      setBusy(false);
      // Let the same file be chosen again after a fix or an undo.
      input.value = '';
    }
  };

  return (
    <div className="source-picker">
      <div className="source-actions">
        <label className="upload">
          Upload image
          <input type="file" accept="image/*" onChange={onUpload} disabled={busy} />
        </label>
        <button
          type="button"
          onClick={startDrawing}
          title="Start a black source and draw on it with the Draw tool"
        >
          New drawing
        </button>
        <button
          type="button"
          onClick={invertSource}
          disabled={!hasSource}
          title="Swap black and white"
        >
          Invert source
        </button>
      </div>
      {loadError && <p className="source-error">{loadError}</p>}
      {examples &&
        examples.index.datasets.map((dataset) => (
          <div key={dataset.id} className="example-set">
            <h4>
              {dataset.name} test images <small>({dataset.licence})</small>
            </h4>
            <div className="example-grid" role="group" aria-label={`${dataset.name} examples`}>
              {examples.index.examples
                .filter((e) => e.dataset === dataset.id)
                .map((example) => {
                  const name = exampleName(examples.index, example);
                  return (
                    <button
                      key={example.cell}
                      type="button"
                      className="example-thumb"
                      aria-label={name}
                      title={name}
                      aria-pressed={sourceLabel === name}
                      style={thumbStyle(examples, example)}
                      onClick={() => setSource(examples.pixelsOf(example.cell), name)}
                    />
                  );
                })}
            </div>
          </div>
        ))}
    </div>
  );
}
