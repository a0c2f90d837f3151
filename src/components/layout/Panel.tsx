// A secondary panel beside the main view: folds away under its title; the contents stay in the
// page either way. A panel that asks to (`startsOpen`) is open at first on a screen wide enough
// to hold the panels beside the view, and folded on a phone unless it is part of the main path
// (`openOnPhone`, the source panel). Others start folded, so a new panel does not push the
// ones people use most out of view, nor put a second "Steps" or "Step" in reach before asked.
import { useState, type ReactNode } from 'react';

/** The widest layout the workspace stacks in (styles.css, the phone layout). */
const NARROW = '(max-width: 899px)';

function isNarrow(): boolean {
  return typeof window.matchMedia === 'function' && window.matchMedia(NARROW).matches;
}

export function Panel({
  title,
  startsOpen = false,
  openOnPhone = false,
  className = '',
  children,
}: {
  title: string;
  startsOpen?: boolean;
  openOnPhone?: boolean;
  className?: string;
  children: ReactNode;
}) {
  const [initiallyOpen] = useState(() => openOnPhone || (startsOpen && !isNarrow()));
  return (
    <details className={`panel ${className}`} open={initiallyOpen}>
      <summary>{title}</summary>
      <div className="panel-body">{children}</div>
    </details>
  );
}
