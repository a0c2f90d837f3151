// The text model's conditioning: Prompt and Negative prompt, with what the tokenizer makes of them
// (words it does not know are ignored, long prompts are cut) and word suggestions from its
// vocabulary as you type. Each change goes to a running run at its next step, like Class does.
import { useId, useMemo } from 'react';
import { WordTokenizer } from '../../engine/emoji/tokenizer';
import { changeControls } from '../../engineClient';
import { MAX_PROMPT_CHARS } from '../../runControls';
import { useAppStore } from '../../store';
import { PromptReport } from './PromptReport';

/** Replaces the word being typed (the last one) by `word`, and leaves a space to go on. */
export function completeLastWord(text: string, word: string): string {
  const match = /[A-Za-z0-9\u00C0-\uFFFF]*$/.exec(text);
  const start = match ? text.length - match[0].length : text.length;
  return `${text.slice(0, start)}${word} `;
}

function PromptBox({
  label,
  value,
  placeholder,
  tokenizer,
  onChange,
}: {
  label: string;
  value: string;
  placeholder: string;
  tokenizer: WordTokenizer;
  onChange(text: string): void;
}) {
  const id = useId();
  const suggestions = useMemo(() => {
    // Suggest only while a word is being typed (no trailing space), and not a known whole word.
    if (value === '' || /\s$/.test(value)) return [];
    const found = tokenizer.suggest(value, 6);
    return found.length === 1 && value.toLowerCase().endsWith(found[0]) ? [] : found;
  }, [tokenizer, value]);
  return (
    <div className="field prompt-field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        rows={2}
        value={value}
        maxLength={MAX_PROMPT_CHARS}
        placeholder={placeholder}
        spellCheck={false}
        onChange={(e) => onChange(e.target.value)}
      />
      {suggestions.length > 0 && (
        <div className="prompt-suggestions" role="group" aria-label={`${label} suggestions`}>
          {suggestions.map((word) => (
            <button
              key={word}
              type="button"
              className="prompt-suggestion"
              onClick={() => onChange(completeLastWord(value, word))}
            >
              {word}
            </button>
          ))}
        </div>
      )}
      <PromptReport
        report={tokenizer.encode(value)}
        emptyMeans={label === 'Prompt' ? 'unconditional' : 'none'}
      />
    </div>
  );
}

export function PromptFields() {
  const model = useAppStore((s) => s.model);
  const prompt = useAppStore((s) => s.controls.prompt);
  const negativePrompt = useAppStore((s) => s.controls.negativePrompt);
  const tokenizer = useMemo(
    () =>
      model?.vocabulary && model.maxPromptTokens
        ? new WordTokenizer(model.vocabulary, model.maxPromptTokens)
        : null,
    [model],
  );
  if (!tokenizer) return null;
  return (
    <>
      <PromptBox
        label="Prompt"
        value={prompt}
        placeholder="e.g. red heart, cat face"
        tokenizer={tokenizer}
        onChange={(text) => changeControls({ prompt: text })}
      />
      <PromptBox
        label="Negative prompt"
        value={negativePrompt}
        placeholder="optional: what to steer away from"
        tokenizer={tokenizer}
        onChange={(text) => changeControls({ negativePrompt: text })}
      />
    </>
  );
}
