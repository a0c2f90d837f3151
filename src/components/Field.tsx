// Labelled form controls whose accessible name is exactly the visible label: the <label> sits
// beside the control and points at it (htmlFor), instead of wrapping it, so a screen reader hears
// "Model", not "Model MNIST digits, class-conditional DDPM U-Net".
import { useId, type ReactNode, type SelectHTMLAttributes } from 'react';

/** A label and a <select>, stacked. */
export function SelectField({
  label,
  title,
  children,
  ...select
}: {
  label: string;
  title?: string;
  children: ReactNode;
} & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  return (
    <div className="field" title={title}>
      <label htmlFor={id}>{label}</label>
      <select id={id} {...select}>
        {children}
      </select>
    </div>
  );
}
