#!/usr/bin/env node
// `npm test`: type-check, lint and format checks, then every vitest suite; ends with a plain
// "N passed, N failed" line (CI reads that line, not vitest's own summary). Exit code 0 only if
// everything passed. (That generated files are up to date is a vitest test: test/asl.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', env }).status ?? 1;

let passed = 0;
let failed = 0;

// Whole-tree checks, each counted as one test.
const CHECKS = [
  ['npx', ['tsc', '-p', '.', '--noEmit']],
  ['npx', ['eslint', '.']],
  ['npx', ['prettier', '--check', '.']],
];
for (const [cmd, args] of CHECKS) {
  console.log(`> ${[cmd, ...args].join(' ')}`);
  if (run(cmd, args) === 0) passed++;
  else {
    failed++;
    console.error(`FAILED: ${args.join(' ')}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'cutover-test-'));
const report = join(dir, 'vitest.json');
const extra = process.argv.slice(2);
const code = run('npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...extra,
]);
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  // A suite that failed to load has no failed tests but must still fail the run.
  failed += (r.testResults ?? []).filter((s) => s.status === 'failed' && s.assertionResults.length === 0).length;
} catch {
  failed++;
  console.error('vitest produced no report');
}
rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && code === 0 ? 0 : 1);
