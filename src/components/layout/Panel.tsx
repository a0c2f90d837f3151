// A secondary panel beside the main view: folds away under its title. Open at first on a screen
// wide enough to hold the panels beside the view, folded on a phone unless it is part of the
// main path (the source panel); the contents stay in the page either way.
import { useState, type ReactNode } from 'react';

/** The widest layout the workspace folds secondary panels in (styles.css, the phone layout). */
const NARROW = '(max-width: 899px)';

function isNarrow(): boolean {
  return typeof window.matchMedia === 'function' && window.matchMedia(NARROW).matches;
}

export function Panel({
  title,
  openOnPhone = false,
  className = '',
  children,
}: {
  title: string;
  openOnPhone?: boolean;
  className?: string;
  children: ReactNode;
}) {
  const [initiallyOpen] = useState(() => openOnPhone || !isNarrow());
  return (
    <details className={`panel ${className}`} open={initiallyOpen}>
      <summary>{title}</summary>
      <div className="panel-body">{children}</div>
    </details>
  );
}
