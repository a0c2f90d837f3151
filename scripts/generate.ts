// CLI: npm run generate -- --model mnist --class 3 --count 64 --sampler "DPM++ 2M" --steps 20 \
//        --guidance 2 --seed 1 --out DIR
// Writes DIR/<index>_c<class>_.png, DIR/sheet.png and DIR/generate.json; see scripts/lib/generate.ts.
import { USAGE, UsageError, generate, parseGenerateArgs } from './lib/generate';

async function main(): Promise<void> {
  let options;
  try {
    options = parseGenerateArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  try {
    await generate(options, (line) => console.log(line));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      process.exitCode = 2;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  }
}

void main();
