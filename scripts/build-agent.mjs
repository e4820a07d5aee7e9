// `npm run build:agent`: src/agent/main.ts and everything it imports in one ES module,
// dist/cutover-agent.mjs, that an instance runs with nothing but Node ≥ 20:
//   node cutover-agent.mjs --endpoint URL --host-id ID --root DIR
import { statSync } from 'node:fs';
import { build } from 'esbuild';

const outfile = 'dist/cutover-agent.mjs';
await build({
  entryPoints: ['src/agent/main.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  // Bundled CommonJS packages (yaml, the AWS credential chain) call require() for Node's modules.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cutoverRequire } from 'node:module'; const require = __cutoverRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
console.log(`${outfile}: ${Math.round(statSync(outfile).size / 1024)} KiB`);
