// Where the source image comes from: an example from the loaded model's data set, an uploaded
// picture, or a drawing started on a blank canvas (black for the grey models, white for colour).
import { useEffect, useState, type ChangeEvent, type CSSProperties } from 'react';
import { decodeUpload } from '../../source/decodeUpload';
import {
  cellOrigin,
  datasetsForModel,
  exampleName,
  type ExampleDataset,
  type ExampleImage,
} from '../../source/examplesIndex';
import { loadExamples, type LoadedExamples } from '../../source/loadExamples';
import { useSourceStore } from '../../state/sourceStore';
import { useAppStore } from '../../store';

/** On-screen enlargement of an example thumbnail (42 CSS pixels for a 28x28 cell). */
const THUMB_SCALE = 1.5;

function thumbStyle(
  examples: LoadedExamples,
  dataset: ExampleDataset,
  example: ExampleImage,
): CSSProperties {
  const side = dataset.cellSize * THUMB_SCALE;
  const { x, y } = cellOrigin(dataset, example.cell);
  return {
    width: side,
    height: side,
    backgroundColor: dataset.channels === 3 ? '#fff' : undefined,
    backgroundImage: `url(${examples.spriteUrl(dataset.sprite)})`,
    backgroundSize: `${dataset.columns * side}px auto`,
    backgroundPosition: `${-x * THUMB_SCALE}px ${-y * THUMB_SCALE}px`,
  };
}

export function SourcePicker() {
  const [examples, setExamples] = useState<LoadedExamples | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const sourceLabel = useSourceStore((s) => s.sourceLabel);
  const hasSource = useSourceStore((s) => s.pixels !== null);
  const geometry = useSourceStore((s) => s.geometry);
  const modelId = useAppStore((s) => s.model?.id ?? null);
  const { setSource, setError, startDrawing, invertSource } = useSourceStore.getState();
  const colour = geometry.channels === 3;

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
      const result = await decodeUpload(file, geometry);
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
          title={`Start a ${colour ? 'white' : 'black'} source and draw on it with the Draw tool`}
        >
          New drawing
        </button>
        <button
          type="button"
          onClick={invertSource}
          disabled={!hasSource}
          title={colour ? 'Turn every colour into its opposite' : 'Swap black and white'}
        >
          Invert source
        </button>
      </div>
      {loadError && <p className="source-error">{loadError}</p>}
      {examples &&
        datasetsForModel(examples.index, modelId, geometry).map((dataset) => (
          <div key={dataset.id} className="example-set">
            <h4>
              {dataset.name} {dataset.channels === 3 ? 'images' : 'test images'}{' '}
              <small>({dataset.licence})</small>
            </h4>
            {dataset.credit && <p className="hint example-credit">{dataset.credit}</p>}
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
                      style={thumbStyle(examples, dataset, example)}
                      onClick={() => {
                        const picked = examples.pixelsOf(example);
                        setSource(picked.pixels, name, null, picked.geometry);
                      }}
                    />
                  );
                })}
            </div>
          </div>
        ))}
    </div>
  );
}
