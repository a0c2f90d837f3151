/** A model file that cannot be used, with the file it came from and what is wrong with it. */
export class ModelLoadError extends Error {
  readonly file: string;
  readonly problem: string;

  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ModelLoadError';
    this.file = file;
    this.problem = problem;
  }
}
