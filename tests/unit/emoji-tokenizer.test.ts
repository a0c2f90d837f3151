// The emoji word tokenizer (src/engine/emoji/tokenizer.ts) on the shipped vocabulary: the edge
// cases a prompt box sees. Expected ids were produced by training/emoji/tokenizer.py on the same
// vocabulary (the parity test checks the fixture's cases; these add the odd ones).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WordTokenizer, wordsOf } from '../../src/engine/emoji';
import { readJson } from './emojiTestFiles';

const DIR = join(__dirname, '..', '..', 'public', 'models', 'emoji', 'tokenizer');
const vocab = readJson(join(DIR, 'vocab.json')) as unknown as string[];
const maxLength = readJson(join(DIR, 'tokenizer_config.json')).model_max_length as number;
const tok = new WordTokenizer(vocab, maxLength);
const id = (w: string) => vocab.indexOf(w);
const EMPTY = [1, 2, ...new Array<number>(maxLength - 2).fill(0)];
const padded = (...ids: number[]) => [
  1,
  ...ids,
  2,
  ...new Array<number>(maxLength - 2 - ids.length).fill(0),
];

describe('WordTokenizer', () => {
  it('encodes the empty prompt (and blanks) as [BOS][EOS][PAD]..., the unconditional input', () => {
    for (const text of ['', '   ', '\n\t', '!!! ...']) {
      expect(tok.encode(text)).toEqual({ ids: EMPTY, words: [], unknown: [], truncated: false });
    }
  });

  it('drops unknown words and reports them; a prompt of only unknown words is unconditional', () => {
    expect(tok.encode('zzqx blorp zzqx')).toEqual({
      ids: EMPTY,
      words: [],
      unknown: ['zzqx', 'blorp', 'zzqx'],
      truncated: false,
    });
    const t = tok.encode('red zzqx heart');
    expect(t.ids).toEqual(padded(id('red'), id('heart')));
    expect(t.unknown).toEqual(['zzqx']);
  });

  it('keeps the first maxLength - 2 known words of a long prompt and says it truncated', () => {
    const t = tok.encode(`${'red '.repeat(20)}zzqx`);
    expect(t.ids).toEqual([1, ...new Array<number>(maxLength - 2).fill(id('red')), 2]);
    expect(t.words).toHaveLength(maxLength - 2);
    expect(t.truncated).toBe(true);
    expect(t.unknown).toEqual(['zzqx']);
    // Unknown words do not count toward the length.
    const exact = tok.encode(`${'red '.repeat(maxLength - 2)}${'zzqx '.repeat(10)}`);
    expect(exact.truncated).toBe(false);
  });

  it('folds case, accents and compatibility forms; emoji and other scripts split words', () => {
    const cases: [string, number[], string[]][] = [
      ['RED HEART', [id('red'), id('heart')], []],
      ['red-heart_cat.face', [id('red'), id('heart'), id('cat'), id('face')], []],
      ['piñata', [id('pinata')], []], // NFKD, combining tilde removed
      ['Café\u0301 crème', [id('cafe')], ['creme']],
      ['ＣＡＴ ｆａｃｅ', [id('cat'), id('face')], []], // full-width forms
      ['\ufb01re', [id('fire')], []], // the "fi" ligature
      ['❤️ 🐱 cat', [id('cat')], []], // emoji are not words
      ['日本 cat', [id('cat')], []],
      ['cat\u200dface', [id('cat'), id('face')], []], // zero-width joiner splits
      ['red\u034fheart', [id('red'), id('heart')], []], // U+034F: a mark of class 0, splits
      ['İstanbul', [], ['istanbul']], // dotted capital I: i + U+0307, removed
      ['ℌeart', [], ['eart']], // U+210C folds to a capital H after lower-casing: dropped
    ];
    for (const [text, ids, unknown] of cases) {
      const t = tok.encode(text);
      expect({ text, ids: t.ids, unknown: t.unknown }).toEqual({
        text,
        ids: padded(...ids),
        unknown,
      });
    }
  });

  it('matches tokenizer.py on the ½ and ² compatibility digits', () => {
    // Python: "Ⅻ ½ ²" -> [1, 6, 14, 14, 2]: ⅻ -> xii (unknown), ½ -> 1⁄2 -> "1", "2"; ² -> "2"
    const t = tok.encode('Ⅻ ½ ²');
    expect(t.ids.slice(0, 5)).toEqual([1, 6, 14, 14, 2]);
    expect(t.unknown).toEqual(['xii']);
  });

  it('splits words as tokenizer.py words_of', () => {
    expect(wordsOf('  Grinning   FACE, with big-eyes!! ')).toEqual([
      'grinning',
      'face',
      'with',
      'big',
      'eyes',
    ]);
    expect(wordsOf('')).toEqual([]);
  });

  it('suggests vocabulary words for the word being typed', () => {
    const s = tok.suggest('hea', 5);
    expect(s).toHaveLength(5);
    expect(s.every((w) => w.startsWith('hea'))).toBe(true);
    expect(s).toContain('heart');
    expect(tok.suggest('red HEAR', 3)[0]).toBe('hear'); // the last word; exact match first
    expect(tok.suggest('cat', 1)).toEqual(['cat']);
    expect(tok.suggest('Piña', 3)).toContain('pinata'); // folded like a prompt
    expect(tok.suggest('')).toEqual([]);
    expect(tok.suggest('cat ')).toEqual([]); // nothing being typed after a space
    expect(tok.suggest('zzqx')).toEqual([]);
    expect(tok.suggest('[')).toEqual([]); // special tokens are never suggested
    expect(tok.suggest('ca', 100).length).toBeGreaterThan(10);
  });
});
