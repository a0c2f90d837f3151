import { useAppStore } from '../../store';

/** 2228418 -> "2.2 MB"; small files in kB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(bytes < 10_000 ? 1 : 0)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/**
 * The weights download of the model being loaded: a bar and "1.1 MB of 2.2 MB". A model served
 * from the browser's cache (worker/weightsCache.ts) reports all its bytes at once.
 */
export function ModelDownload() {
  const progress = useAppStore((s) => s.modelProgress);
  if (!progress) return null;
  const { loadedBytes, totalBytes } = progress;
  const text =
    totalBytes === null
      ? `${formatBytes(loadedBytes)} downloaded`
      : `${formatBytes(loadedBytes)} of ${formatBytes(totalBytes)}`;
  return (
    <div className="model-download" data-testid="model-download">
      <progress aria-label="Model download" value={loadedBytes} max={totalBytes ?? undefined} />
      <span aria-live="polite">{text}</span>
    </div>
  );
}
