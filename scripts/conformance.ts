// CLI: npm run conformance -- --cases <file.json> [--cases <file2.json> ...]
// Prints one line per case and `N passed, M failed`; exits 1 if any case fails.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { runCase, type ConformanceCase } from './conformance/runCase';

function parseArgs(argv: string[]): string[] {
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--cases' && argv[i + 1]) files.push(argv[++i]);
    else if (argv[i].startsWith('--cases=')) files.push(argv[i].slice('--cases='.length));
    else if (!argv[i].startsWith('--')) files.push(argv[i]);
  }
  return files.length > 0 ? files : ['tests/conformance/cases-public.json'];
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  let passed = 0;
  let failed = 0;
  for (const file of parseArgs(process.argv.slice(2))) {
    const cases = JSON.parse(readFileSync(file, 'utf8')) as ConformanceCase[];
    for (const c of cases) {
      try {
        const r = runCase(c);
        if (r.passed) passed++;
        else failed++;
        console.log(`${r.passed ? 'PASS' : 'FAIL'}  ${c.name}  [${c.scheduler}]  ${r.detail}`);
      } catch (err) {
        failed++;
        console.log(`FAIL  ${c.name}  [${c.scheduler}]  error: ${(err as Error).message}`);
      }
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
