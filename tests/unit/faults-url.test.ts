// Hostile and odd page URLs: every setting is validated, anything refused is named in a message
// (shortened when long), and nothing throws.
import { describe, expect, it } from 'vitest';
import { MAX_STEPS } from '../../src/runControls';
import { readUrlSettings } from '../../src/urlSettings';

describe('URL settings from hostile query strings', () => {
  it('refuses NaN, negative, huge and script values with a message each', () => {
    const url = readUrlSettings(
      '?steps=NaN&seed=-5&guidance=1e999&batch=99999999999999999999&class=<script>alert(1)</script>' +
        '&eta=-0.5&sampler=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&backend=__proto__',
    );
    expect(url.controls).toEqual({});
    expect(url.backend).toBeNull();
    expect(url.classId).toBeNull();
    const text = url.warnings.join('\n');
    for (const key of [
      'steps',
      'seed',
      'guidance',
      'batch',
      'class',
      'eta',
      'sampler',
      'backend',
    ]) {
      expect(text).toContain(`Ignored ${key}="`);
    }
    expect(text).toContain('Ignored steps="NaN" in the URL: use 1 to');
  });

  it('shortens very long values and keys in its messages', () => {
    const long = 'x'.repeat(100_000);
    const url = readUrlSettings(`?steps=${long}&${long}=1&model=${long}`);
    expect(url.controls).toEqual({});
    expect(url.model).toHaveLength(100_000); // checked against the model list, and shortened there
    for (const warning of url.warnings) expect(warning.length).toBeLessThan(200);
    expect(url.warnings).toContain(
      `Ignored steps="${'x'.repeat(40)}…" in the URL: use 1 to ${MAX_STEPS}.`,
    );
    expect(url.warnings).toContain(`Ignored unknown URL parameter "${'x'.repeat(40)}…".`);
  });

  it('reports unknown and repeated keys, and uses the first of a repeated one', () => {
    const url = readUrlSettings('?steps=12&steps=40&colour=red&debug=1&a=1&b=2&c=3&d=4&e=5');
    expect(url.controls.steps).toBe(12);
    expect(url.warnings).toEqual([
      'steps appears 2 times in the URL: using the first, "12".',
      'Ignored unknown URL parameters "colour", "a", "b", "c", "d", and 1 more.',
    ]);
  });

  it('survives bad percent-encoding, empty keys and values, and lone separators', () => {
    const url = readUrlSettings('?steps=%E0%A4%A&seed=%&&=&=5&guidance=&sampler=Euler%00');
    expect(url.controls).toEqual({});
    const text = url.warnings.join('\n');
    expect(text).toContain('Ignored steps="\uFFFD%A" in the URL');
    expect(text).toContain('Ignored seed="%" in the URL');
    expect(text).toContain('Ignored guidance="" in the URL');
    expect(text).toContain('Ignored sampler="Euler\u0000" in the URL');
    expect(text).toContain('Ignored unknown URL parameter ""');
  });

  it('keeps every valid setting', () => {
    const url = readUrlSettings(
      '?backend=wasm&model=mnist&class=3&sampler=Euler&steps=12&guidance=2.5&seed=7&batch=4',
    );
    expect(url.warnings).toEqual([]);
    expect(url).toMatchObject({ backend: 'wasm', model: 'mnist', classId: 3 });
    expect(url.controls).toEqual({
      sampler: 'Euler',
      steps: 12,
      guidanceScale: 2.5,
      seed: 7,
      batchSize: 4,
    });
  });
});
