// The X/Y grid as one labelled picture: the X values over the columns, the Y values beside the
// rows, each cell a run's final image enlarged with nearest-neighbour pixels. The layout is pure
// arithmetic (tests check an exported PNG's size against it); drawing needs a 2D canvas.

/** Each image pixel becomes SCALE × SCALE pixels (a 28-pixel digit is too small to read). */
export const XY_SCALE = 4;
export const XY_GAP = 4;
export const XY_MARGIN = 8;
/** Room for the X values above the columns and the Y values left of the rows. */
export const XY_HEADER = 24;
export const XY_LEFT = 112;

export interface XyLayout {
  cols: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
  width: number;
  height: number;
}

export function xyGridLayout(
  cols: number,
  rows: number,
  imageWidth: number,
  imageHeight: number,
): XyLayout {
  const cellWidth = imageWidth * XY_SCALE;
  const cellHeight = imageHeight * XY_SCALE;
  return {
    cols,
    rows,
    cellWidth,
    cellHeight,
    width: 2 * XY_MARGIN + XY_LEFT + cols * cellWidth + (cols - 1) * XY_GAP,
    height: 2 * XY_MARGIN + XY_HEADER + rows * cellHeight + (rows - 1) * XY_GAP,
  };
}

/** Top-left corner of cell (col, row). */
export function xyCellOrigin(layout: XyLayout, col: number, row: number): { x: number; y: number } {
  return {
    x: XY_MARGIN + XY_LEFT + col * (layout.cellWidth + XY_GAP),
    y: XY_MARGIN + XY_HEADER + row * (layout.cellHeight + XY_GAP),
  };
}

/** One cell's image: bytes of height × width × channels (1 gray, 3 colour). */
export interface XyCellImage {
  bytes: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

export interface XyGridPicture {
  xTitle: string;
  yTitle: string;
  xLabels: string[];
  yLabels: string[];
  /** Row-major: cells[row * cols + col]; null while a cell is still rendering. */
  cells: (XyCellImage | null)[];
  imageWidth: number;
  imageHeight: number;
}

const BACKGROUND = '#1d1d1f';
const TEXT = '#f2f2f2';
const PENDING = '#3a3a3c';

/** Draws the grid on `canvas`, resizing it to the layout. */
export function drawXyGrid(canvas: HTMLCanvasElement, picture: XyGridPicture): XyLayout {
  const { xLabels, yLabels, cells } = picture;
  const layout = xyGridLayout(
    xLabels.length,
    yLabels.length,
    picture.imageWidth,
    picture.imageHeight,
  );
  canvas.width = layout.width;
  canvas.height = layout.height;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('This browser cannot draw on a canvas');
  context.fillStyle = BACKGROUND;
  context.fillRect(0, 0, layout.width, layout.height);
  context.fillStyle = TEXT;
  context.font = '12px sans-serif';
  context.textBaseline = 'middle';
  // The corner names the axes; maxWidth squeezes a long label rather than letting it overflow.
  context.textAlign = 'left';
  const corner = `${picture.yTitle} ↓  ${picture.xTitle} →`;
  context.fillText(corner, XY_MARGIN, XY_MARGIN + XY_HEADER / 2, XY_LEFT - 4);
  context.textAlign = 'center';
  xLabels.forEach((label, col) => {
    const { x } = xyCellOrigin(layout, col, 0);
    context.fillText(label, x + layout.cellWidth / 2, XY_MARGIN + XY_HEADER / 2, layout.cellWidth);
  });
  context.textAlign = 'right';
  yLabels.forEach((label, row) => {
    const { y } = xyCellOrigin(layout, 0, row);
    context.fillText(label, XY_MARGIN + XY_LEFT - 6, y + layout.cellHeight / 2, XY_LEFT - 6);
  });
  const small = document.createElement('canvas');
  context.imageSmoothingEnabled = false;
  cells.forEach((cell, i) => {
    const { x, y } = xyCellOrigin(layout, i % layout.cols, Math.floor(i / layout.cols));
    if (!cell) {
      context.fillStyle = PENDING;
      context.fillRect(x, y, layout.cellWidth, layout.cellHeight);
      return;
    }
    small.width = cell.width;
    small.height = cell.height;
    small.getContext('2d')?.putImageData(cellImageData(cell), 0, 0);
    context.drawImage(small, x, y, layout.cellWidth, layout.cellHeight);
  });
  return layout;
}

function cellImageData(cell: XyCellImage): ImageData {
  const { bytes, width, height, channels } = cell;
  const rgba = new Uint8ClampedArray(width * height * 4);
  // A gray image repeats its one channel as red, green and blue.
  const green = channels >= 3 ? 1 : 0;
  const blue = channels >= 3 ? 2 : 0;
  for (let p = 0; p < width * height; p++) {
    rgba[p * 4] = bytes[p * channels];
    rgba[p * 4 + 1] = bytes[p * channels + green];
    rgba[p * 4 + 2] = bytes[p * channels + blue];
    rgba[p * 4 + 3] = 255;
  }
  return new ImageData(rgba, width, height);
}
