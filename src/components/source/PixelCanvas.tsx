// A canvas that shows given RGBA of a square image (28x28, 32x32: the side is read from the
// length) and is scaled up by CSS with crisp pixels. Pointer handlers and aria attributes pass
// through to the <canvas>.
import {
  forwardRef,
  useEffect,
  useImperativeHandle,
  useRef,
  type CanvasHTMLAttributes,
} from 'react';

interface Props extends CanvasHTMLAttributes<HTMLCanvasElement> {
  rgba: Uint8ClampedArray;
}

export const PixelCanvas = forwardRef<HTMLCanvasElement, Props>(function PixelCanvas(
  { rgba, className, ...rest },
  ref,
) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  useImperativeHandle(ref, () => canvasRef.current as HTMLCanvasElement);
  const side = Math.max(1, Math.round(Math.sqrt(rgba.length / 4)));

  useEffect(() => {
    const ctx = canvasRef.current?.getContext('2d');
    if (!ctx) return;
    // The canvas has just been sized to `side` by the render this effect follows.
    if (rgba.length !== side * side * 4) return;
    ctx.putImageData(new ImageData(new Uint8ClampedArray(rgba), side, side), 0, 0);
  }, [rgba, side]);

  return (
    <canvas
      ref={canvasRef}
      width={side}
      height={side}
      className={`pixel-canvas ${className ?? ''}`}
      {...rest}
    />
  );
});
