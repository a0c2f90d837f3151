// The emoji pipeline's word tokenizer, rule for rule as training/emoji/tokenizer.py (the vocabulary
// travels as tokenizer/vocab.json): lower-case, Unicode NFKD with combining marks removed ("piñata"
// is "pinata"), split on anything that is not a-z or 0-9; each known word is one token, unknown
// words are dropped and reported; [BOS] words [EOS] padded with [PAD] to maxLength; more known
// words than fit keep the first maxLength - 2 and report the truncation. The empty prompt,
// [BOS][EOS][PAD]..., is the unconditional input of classifier-free guidance.

export const SPECIAL_TOKENS = ['[PAD]', '[BOS]', '[EOS]', '[UNK]'] as const;
export const PAD_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;

export interface TokenizedPrompt {
  /** maxLength token ids. */
  ids: number[];
  /** Known words that made it into ids, in order. */
  words: string[];
  /** Words not in the vocabulary (dropped), in order, repeats kept. */
  unknown: string[];
  /** More known words than fit: the ones past maxLength - 2 were cut. */
  truncated: boolean;
}

const SEPARATOR = /[^a-z0-9]+/;
const KEPT = /[a-z0-9]/;

// Python's unicodedata.combining(ch) != 0: canonical combining class not 0. JS has no such
// property (General_Category Mark differs: U+034F and the variation selectors are marks of class
// 0, which Python keeps and which then split words). Canonical ordering tells: NFD moves a mark of
// class 1..239 in front of U+0345 (class 240, the highest) and never moves a starter (class 0).
const IOTA_SUBSCRIPT = '\u0345';
const combiningCache = new Map<string, boolean>();

function isCombining(ch: string): boolean {
  let result = combiningCache.get(ch);
  if (result === undefined) {
    const probe = `a${IOTA_SUBSCRIPT}${ch}`;
    result = ch === IOTA_SUBSCRIPT || probe.normalize('NFD') !== probe;
    combiningCache.set(ch, result);
  }
  return result;
}

/** Lower-cased, NFKD, combining marks removed: the text words are split from. */
function fold(text: string): string {
  let folded = '';
  for (const ch of text.toLowerCase().normalize('NFKD')) {
    if (KEPT.test(ch) || !isCombining(ch)) folded += ch;
  }
  return folded;
}

/** The words of a text, exactly as tokenizer.py's words_of. */
export function wordsOf(text: string): string[] {
  return fold(text)
    .split(SEPARATOR)
    .filter((w) => w !== '');
}

export class WordTokenizer {
  readonly vocab: readonly string[];
  readonly maxLength: number;
  private readonly ids = new Map<string, number>();
  /** Ordinary words (no special tokens), for suggestions. */
  private readonly words: string[];

  constructor(vocab: readonly string[], maxLength: number) {
    if (maxLength < 2) throw new Error(`maxLength ${maxLength} leaves no room for [BOS] and [EOS]`);
    this.vocab = vocab;
    this.maxLength = maxLength;
    vocab.forEach((w, i) => {
      if (!this.ids.has(w)) this.ids.set(w, i);
    });
    const special = new Set<string>(SPECIAL_TOKENS);
    this.words = vocab.filter((w) => !special.has(w));
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  has(word: string): boolean {
    return this.ids.has(word);
  }

  encode(text: string): TokenizedPrompt {
    const known: string[] = [];
    const unknown: string[] = [];
    for (const w of wordsOf(text)) (this.ids.has(w) ? known : unknown).push(w);
    const room = this.maxLength - 2;
    const kept = known.slice(0, room);
    const ids = [BOS_ID, ...kept.map((w) => this.ids.get(w) as number), EOS_ID];
    while (ids.length < this.maxLength) ids.push(PAD_ID);
    return { ids, words: kept, unknown, truncated: known.length > room };
  }

  /**
   * Vocabulary words that complete `prefix` (the word being typed, normalised like a prompt; of
   * several words the last counts, and none after a trailing space or punctuation): an exact
   * match first, then shorter words, then alphabetical.
   */
  suggest(prefix: string, limit = 8): string[] {
    const folded = fold(prefix);
    const stem = /[a-z0-9]+$/.exec(folded)?.[0] ?? '';
    if (stem === '' || limit <= 0) return [];
    const matches = this.words.filter((w) => w.startsWith(stem));
    matches.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
    return matches.slice(0, limit);
  }
}
