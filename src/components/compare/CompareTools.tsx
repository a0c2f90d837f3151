import { ComparePanel } from './ComparePanel';
import { XyGridPanel } from './XyGridPanel';
import './compare.css';

/**
 * Compare and the X/Y grid as two folded panels beside the main view (the panels' look from
 * styles.css): they start their own engine workers only when used.
 */
export function CompareTools() {
  return (
    <>
      <details className="panel compare-tools">
        <summary>Compare two settings</summary>
        <div className="panel-body">
          <ComparePanel />
        </div>
      </details>
      <details className="panel compare-tools">
        <summary>X/Y grid</summary>
        <div className="panel-body">
          <XyGridPanel />
        </div>
      </details>
    </>
  );
}
