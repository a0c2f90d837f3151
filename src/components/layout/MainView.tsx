// The main view: one large image in the middle of the workspace. Before a run it shows the source
// with the mask painted over it; a run's frames (x_t) replace the source, and in Inpaint mode the
// mask stays over them as a translucent layer. The Mask canvas lies on top in both cases and takes
// the brush, so painting works on the source and on the run alike (mouse, pen and touch).
import { useEffect, useMemo, type CSSProperties, type RefObject } from 'react';
import { gridLayout, type GridLayout } from '../../gridImage';
import { pixelCount } from '../../source/geometry';
import { imageToRgba } from '../../source/render';
import { useSourceStore } from '../../state/sourceStore';
import { useStageStore } from '../../state/stageStore';
import { useAppStore } from '../../store';
import { MaskCanvas } from '../source/MaskCanvas';
import { MaskOverlay } from '../source/MaskOverlay';
import { PixelCanvas } from '../source/PixelCanvas';
import { ViewCanvas } from '../ViewCanvas';
import { useElementSize, type Size } from './useElementSize';

/** Used until the view has been measured (and where it cannot be). */
const FALLBACK_AREA: Size = { width: 280, height: 280 };

/**
 * Where an image of `content` pixels goes in `area`: as large as fits, centred, on whole CSS
 * pixels, and at a whole-number enlargement when it is enlarged, so every pixel is the same size.
 */
export function placeInArea(content: Size, area: Size): CSSProperties {
  const fit = Math.min(area.width / content.width, area.height / content.height);
  const scale = fit >= 1 ? Math.floor(fit) : fit;
  const width = Math.max(1, Math.floor(content.width * scale));
  const height = Math.max(1, Math.floor(content.height * scale));
  return {
    width,
    height,
    left: Math.floor((area.width - width) / 2),
    top: Math.floor((area.height - height) / 2),
  };
}

/** The wheel with Ctrl, Alt or Shift over the view sizes the brush (the page must not zoom). */
function useBrushWheel(ref: RefObject<HTMLElement | null>) {
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const onWheel = (event: WheelEvent) => {
      if (!(event.ctrlKey || event.altKey || event.shiftKey)) return;
      const delta = event.deltaY || event.deltaX;
      if (delta === 0) return;
      event.preventDefault();
      const source = useSourceStore.getState();
      source.setBrushSize(source.brushSize + (delta < 0 ? 1 : -1));
    };
    element.addEventListener('wheel', onWheel, { passive: false });
    return () => element.removeEventListener('wheel', onWheel);
  }, [ref]);
}

export function MainView() {
  const frame = useAppStore((s) => s.frames[s.currentFrame] ?? null);
  const shows = useStageStore((s) => s.shows);
  const maskHidden = useStageStore((s) => s.maskHidden);
  const mode = useSourceStore((s) => s.mode);
  const pixels = useSourceStore((s) => s.pixels);
  // The source's geometry follows the loaded model (28x28 grey, 32x32 colour).
  const geometry = useSourceStore((s) => s.geometry);
  const side = geometry.size;
  const [areaRef, measured] = useElementSize<HTMLDivElement>();
  useBrushWheel(areaRef);
  const area = measured && measured.width > 0 && measured.height > 0 ? measured : FALLBACK_AREA;

  const batch = frame?.batch ?? 0;
  const frameHeight = frame?.height ?? 0;
  const frameWidth = frame?.width ?? 0;
  const grid = useMemo<GridLayout | null>(
    () => (batch > 0 ? gridLayout(batch, frameHeight, frameWidth) : null),
    [batch, frameHeight, frameWidth],
  );
  const showingRun = frame !== null && shows === 'run';
  // The mask is the source's (side x side): it lines up with a run's images of that size only.
  const runOnMaskGrid = showingRun && frameWidth === side && frameHeight === side;
  const oneImage = { width: side, height: side };
  const runBox = placeInArea(grid ?? oneImage, area);
  const sourceBox = placeInArea(oneImage, area);
  const sourceRgba = useMemo(
    () => (pixels && maskHidden ? imageToRgba(pixels, pixelCount(geometry)) : null),
    [pixels, maskHidden, geometry],
  );

  return (
    <section className="main-view" aria-label="Main view">
      <div className="stage" ref={areaRef} data-shows={showingRun ? 'run' : 'source'}>
        <ViewCanvas
          bare
          label="Noisy sample x_t"
          frame={frame}
          bytes={frame?.sample ?? null}
          style={{ ...runBox, opacity: showingRun ? 1 : 0 }}
        />
        {!showingRun && sourceRgba && (
          <PixelCanvas
            rgba={sourceRgba}
            aria-hidden="true"
            className="stage-layer"
            style={sourceBox}
          />
        )}
        {runOnMaskGrid && grid && mode === 'inpaint' && !maskHidden && (
          <MaskOverlay grid={grid} style={runBox} />
        )}
        <MaskCanvas
          grid={runOnMaskGrid ? grid : null}
          ghost={showingRun || maskHidden}
          inert={showingRun && !runOnMaskGrid}
          style={showingRun ? runBox : sourceBox}
        />
        {!showingRun && !pixels && (
          <p className="stage-hint">
            Press <strong>Generate</strong>, or pick a source image to paint a mask on.
          </p>
        )}
      </div>
    </section>
  );
}
