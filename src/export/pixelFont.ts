// A 3×5 bitmap font for the labels of exported frames (x_t, x_0, step k/N): exports are built
// without a DOM (no canvas text), and at 28-pixel images a tiny font keeps the labels in scale.

export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;
/** Horizontal advance per character: the glyph and one column of space. */
export const GLYPH_ADVANCE = GLYPH_WIDTH + 1;

// Each glyph is five rows of three bits, top row first, leftmost pixel in the high bit.
const GLYPHS: Record<string, readonly number[]> = {
  '0': [0b111, 0b101, 0b101, 0b101, 0b111],
  '1': [0b010, 0b110, 0b010, 0b010, 0b111],
  '2': [0b111, 0b001, 0b111, 0b100, 0b111],
  '3': [0b111, 0b001, 0b011, 0b001, 0b111],
  '4': [0b101, 0b101, 0b111, 0b001, 0b001],
  '5': [0b111, 0b100, 0b111, 0b001, 0b111],
  '6': [0b111, 0b100, 0b111, 0b101, 0b111],
  '7': [0b111, 0b001, 0b010, 0b010, 0b010],
  '8': [0b111, 0b101, 0b111, 0b101, 0b111],
  '9': [0b111, 0b101, 0b111, 0b001, 0b111],
  '/': [0b001, 0b001, 0b010, 0b100, 0b100],
  _: [0b000, 0b000, 0b000, 0b000, 0b111],
  e: [0b000, 0b010, 0b111, 0b100, 0b011],
  p: [0b000, 0b110, 0b101, 0b110, 0b100],
  s: [0b000, 0b011, 0b100, 0b001, 0b110],
  t: [0b010, 0b111, 0b010, 0b010, 0b011],
  x: [0b000, 0b000, 0b101, 0b010, 0b101],
  ' ': [0, 0, 0, 0, 0],
};

export function textWidth(text: string): number {
  return text.length === 0 ? 0 : text.length * GLYPH_ADVANCE - 1;
}

/**
 * Draws gray text into an RGBA image at (x, y), clipped to the image. Characters the font lacks
 * are drawn as blanks.
 */
export function drawText(
  rgba: Uint8Array | Uint8ClampedArray,
  imageWidth: number,
  x: number,
  y: number,
  text: string,
  value: number,
): void {
  const imageHeight = rgba.length / 4 / imageWidth;
  for (let c = 0; c < text.length; c++) {
    const rows = GLYPHS[text[c]] ?? GLYPHS[' '];
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        if (!(rows[row] & (1 << (GLYPH_WIDTH - 1 - col)))) continue;
        const px = x + c * GLYPH_ADVANCE + col;
        const py = y + row;
        if (px >= 0 && px < imageWidth && py >= 0 && py < imageHeight) {
          const at = (py * imageWidth + px) * 4;
          rgba[at] = rgba[at + 1] = rgba[at + 2] = value;
          rgba[at + 3] = 255;
        }
      }
    }
  }
}
