import { ComparePanel } from './ComparePanel';
import { XyGridPanel } from './XyGridPanel';
import './compare.css';

/** Compare and the X/Y grid, folded until opened: they run in their own engine workers. */
export function CompareTools() {
  return (
    <div className="compare-tools">
      <details className="fold">
        <summary>Compare two settings</summary>
        <ComparePanel />
      </details>
      <details className="fold">
        <summary>X/Y grid</summary>
        <XyGridPanel />
      </details>
    </div>
  );
}
