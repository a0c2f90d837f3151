// A 28x28 canvas that shows given RGBA and is scaled up by CSS with crisp pixels. Pointer
// handlers and aria attributes pass through to the <canvas>.
import {
  forwardRef,
  useEffect,
  useImperativeHandle,
  useRef,
  type CanvasHTMLAttributes,
} from 'react';
import { IMAGE_SIZE } from '../../source/grid';

interface Props extends CanvasHTMLAttributes<HTMLCanvasElement> {
  rgba: Uint8ClampedArray;
}

export const PixelCanvas = forwardRef<HTMLCanvasElement, Props>(function PixelCanvas(
  { rgba, className, ...rest },
  ref,
) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  useImperativeHandle(ref, () => canvasRef.current as HTMLCanvasElement);

  useEffect(() => {
    const ctx = canvasRef.current?.getContext('2d');
    if (!ctx) return;
    ctx.putImageData(new ImageData(new Uint8ClampedArray(rgba), IMAGE_SIZE, IMAGE_SIZE), 0, 0);
  }, [rgba]);

  return (
    <canvas
      ref={canvasRef}
      width={IMAGE_SIZE}
      height={IMAGE_SIZE}
      className={`pixel-canvas ${className ?? ''}`}
      {...rest}
    />
  );
});
