import { describe, expect, it } from 'vitest';
import { MAX_UPLOAD_BYTES, decodeProblem, uploadProblem } from '../../src/source/uploadCheck';

describe('upload checks', () => {
  it('accepts an image and a file whose type the browser does not know', () => {
    expect(uploadProblem({ name: 'a.png', size: 1000, type: 'image/png' })).toBeNull();
    expect(uploadProblem({ name: 'a.heic', size: 1000, type: '' })).toBeNull();
  });

  it('refuses a non-image, an empty file and a file over 20 MB with a message naming it', () => {
    expect(uploadProblem({ name: 'notes.txt', size: 12, type: 'text/plain' })).toMatch(
      /notes\.txt is not an image/,
    );
    expect(uploadProblem({ name: 'x.png', size: 0, type: 'image/png' })).toMatch(/empty/);
    expect(
      uploadProblem({ name: 'big.png', size: MAX_UPLOAD_BYTES + 1, type: 'image/png' }),
    ).toMatch(/big\.png is 20\.0 MB; images up to 20 MB/);
    expect(uploadProblem({ name: 'ok.png', size: MAX_UPLOAD_BYTES, type: 'image/png' })).toBeNull();
  });

  it('refuses a decoded image without pixels', () => {
    expect(decodeProblem('a.svg', 0, 10)).toMatch(/no pixels/);
    expect(decodeProblem('a.png', 1, 1)).toBeNull();
  });
});
