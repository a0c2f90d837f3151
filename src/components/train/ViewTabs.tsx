// The two views of the app, Generate (the image playground) and Train (the toy model), as tabs.
// The choice lives in a tiny store of its own so App only reads it.
import { create } from 'zustand';

export type AppView = 'generate' | 'train';

export const useAppView = create<{ view: AppView }>(() => ({ view: 'generate' }));

const TABS: { view: AppView; label: string }[] = [
  { view: 'generate', label: 'Generate' },
  { view: 'train', label: 'Train' },
];

export function ViewTabs() {
  const current = useAppView((s) => s.view);
  return (
    <nav className="view-tabs" role="tablist" aria-label="Views">
      {TABS.map(({ view, label }) => (
        <button
          key={view}
          type="button"
          role="tab"
          aria-selected={current === view}
          onClick={() => useAppView.setState({ view })}
        >
          {label}
        </button>
      ))}
    </nav>
  );
}
