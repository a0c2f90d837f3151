// What the tokenizer kept of a prompt, said plainly: ignored words, a cut prompt, an empty one.
import type { TokenizedPrompt } from '../../engine/emoji/tokenizer';

export function PromptReport({
  report,
  emptyMeans,
}: {
  report: TokenizedPrompt;
  /** What an empty box does: the prompt runs unconditionally, the negative prompt is just off. */
  emptyMeans: 'unconditional' | 'none';
}) {
  const notes: string[] = [];
  const unknown = [...new Set(report.unknown)];
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 8).map((w) => `“${w}”`);
    if (unknown.length > 8) shown.push(`and ${unknown.length - 8} more`);
    notes.push(`Ignored (not in the model’s vocabulary): ${shown.join(', ')}.`);
  }
  if (report.truncated) {
    notes.push(`Too long: only the first ${report.words.length} known words are used.`);
  }
  if (report.words.length === 0 && emptyMeans === 'unconditional') {
    notes.push('No known words: the model draws unconditionally (any emoji).');
  }
  if (notes.length === 0) return null;
  return (
    <p className="prompt-report" role="status">
      {notes.join(' ')}
    </p>
  );
}
