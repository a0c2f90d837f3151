// CLI: npm run upscale -- --in DIR --out DIR2 [--steps N --seed S --sampler NAME --noise-level S]
// The super-resolution stage alone on a folder of 32x32 PNGs; see scripts/lib/upscale.ts.
import { UsageError } from './lib/generate';
import { UPSCALE_USAGE, parseUpscaleArgs, upscale } from './lib/upscale';

async function main(): Promise<void> {
  let options;
  try {
    options = parseUpscaleArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n\n${UPSCALE_USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    console.log(UPSCALE_USAGE);
    return;
  }
  try {
    await upscale(options, (line) => console.log(line));
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
