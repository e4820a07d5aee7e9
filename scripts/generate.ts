/**
 * Writes what is generated from the source: the state machine (statemachines/deployment.asl.json),
 * each Lambda function's entry (functions/*.ts: its task and the adapters of the ports it declares),
 * and each function's port methods (deploy/functions.json, from which deploy/roles.cjs derives its
 * IAM role). `npm run generate`; tests fail when a committed file differs from what this writes.
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { functionEntries, functionPorts } from '../src/wiring/functions.js';
import { definitionText } from '../src/statemachine/definition.js';
import { modelPath, reducedModelText } from './codedeploy-model.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
const stale: string[] = [];

function write(path: string, text: string): void {
  let current: string | undefined;
  try {
    current = readFileSync(`${root}${path}`, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) return;
  stale.push(path);
  if (!check) writeFileSync(`${root}${path}`, text);
}

write('statemachines/deployment.asl.json', definitionText());
const taskFiles = readdirSync(`${root}src/tasks`).map((f) => ({
  file: f,
  text: readFileSync(`${root}src/tasks/${f}`, 'utf8'),
}));
const entries = functionEntries((task) => {
  const found = taskFiles.find((f) => f.text.includes(`export const ${task} = defineTask(`));
  if (!found) throw new Error(`no module in src/tasks defines the task ${task}`);
  return found.file.replace(/\.ts$/, '.js');
});
// Formatted as the rest of the tree is, so `npm run lint` and this check agree.
const style = { ...(await resolveConfig(`${root}functions/api.ts`)), parser: 'typescript' };
for (const [name, text] of Object.entries(entries)) write(`functions/${name}.ts`, await format(text, style));
for (const f of readdirSync(`${root}functions`)) {
  if (!(f.replace(/\.ts$/, '') in entries)) {
    stale.push(`functions/${f}`);
    if (!check) rmSync(`${root}functions/${f}`);
  }
}
write('deploy/functions.json', `${JSON.stringify(functionPorts(), null, 2)}\n`);
// CodeDeploy's service model comes from Debian's awscli package; without it the committed copy stands.
const model = modelPath();
if (model) write('src/api/model/codedeploy.generated.ts', await format(reducedModelText(model), style));
else process.stderr.write('CodeDeploy service model not found (apt-get install awscli): kept the committed copy\n');

if (check) {
  if (stale.length) {
    process.stderr.write(`out of date (run npm run generate): ${stale.join(', ')}\n`);
    process.exit(1);
  }
  process.stdout.write('generated files are up to date\n');
} else process.stdout.write(stale.length ? `generated ${stale.join(', ')}\n` : 'generated files are up to date\n');
