/**
 * Validators in linear time (issue #14): how long 64 KiB AppSpecs built to make the old webhook
 * URL pattern backtrack take to validate (Lambda and ECS parsers, the largest AppSpec accepted),
 * the old pattern on the same input for comparison, and every validator pattern on its adversarial
 * 64 KiB cases (test/security/adversarial.ts). Target: Cutover's checks of each AppSpec (the
 * whole validation less the YAML parse, which the yaml package does in linear time) ≤ 50 ms.
 *
 *   npx tsx bench/validators.ts [--runs 11]
 */
import { MAX_APPSPEC_BYTES, parseDocument } from '../src/domain/appspec.js';
import { parseEcsAppSpec } from '../src/platforms/ecs/appspec.js';
import { parseLambdaAppSpec } from '../src/platforms/lambda/appspec.js';
import { KIB64, adversarial, compile } from '../test/security/adversarial.js';
import { intArg, report } from './support.js';

const TARGET_MS = 50;
const runs = intArg('runs', 11);
/** The webhook pattern before issue #14 (quadratic on a long host followed by whitespace). */
const OLD_WEBHOOK_RE = /^https?:\/\/[^\s/?#]+[^\s]*$/i;

/** Median wall milliseconds of `fn` over `runs` runs. */
function time(fn: () => unknown): number {
  fn(); // warm up (JIT), untimed
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return Math.round(ms[Math.floor(ms.length / 2)]! * 100) / 100;
}

/** `head` + a run of `unit` + `tail`, as long as the AppSpec limit allows. */
const fill = (head: string, unit: string, tail: string) => {
  const room = MAX_APPSPEC_BYTES - head.length - tail.length;
  return head + unit.repeat(Math.floor(room / unit.length)) + tail;
};

const lambdaHead = `version: 0.0
Resources:
  - api:
      Type: AWS::Lambda::Function
      Properties: { Name: api, Alias: live, CurrentVersion: '1', TargetVersion: '2' }
Hooks:
  - BeforeAllowTraffic: "https://`;
const ecsHead = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: web:2
        LoadBalancerInfo: { ContainerName: web, ContainerPort: 80 }
Hooks:
  - AfterAllowTestTraffic: "https://`;
const appSpecs = {
  // A long host then whitespace: the old pattern tried every split of the run.
  lambdaWebhookHostThenSpace: fill(lambdaHead, 'a', ' x"\n'),
  lambdaWebhookPathOfSlashes: fill(lambdaHead, '/', ' "\n'),
  ecsWebhookHostThenSpace: fill(ecsHead, 'a', ' x"\n'),
  // Many hook entries, each a near miss.
  lambdaManyNearMisses: fill(
    lambdaHead.replace(/\n {2}- BeforeAllowTraffic: "https:\/\/$/, '\n'),
    '  - AfterAllowTraffic: "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa x"\n',
    '',
  ),
};

const refusedInMs: Record<string, { bytes: number; refused: boolean; ms: number; yamlParseMs: number }> = {};
for (const [name, text] of Object.entries(appSpecs)) {
  let refused = false;
  const ms = time(() => {
    try {
      (name.startsWith('ecs') ? parseEcsAppSpec : parseLambdaAppSpec)(text);
    } catch {
      refused = true;
    }
  });
  // The YAML parse alone (the yaml package; linear, but it is most of the cost of many small entries).
  const yamlParseMs = time(() => parseDocument(text));
  refusedInMs[name] = { bytes: Buffer.byteLength(text), refused, ms, yamlParseMs };
}

const hostile = `https://${'a'.repeat(KIB64 - 10)} `;
// Once: at 64 KiB it takes seconds.
const oldStart = performance.now();
OLD_WEBHOOK_RE.test(hostile);
const oldPatternMs = Math.round(performance.now() - oldStart);

const cases = adversarial(KIB64);
const patterns = Object.entries(cases)
  .map(([literal, list]) => {
    const re = compile(literal === 'new RegExp(…)' ? '/^[sc]\\d+$/' : literal);
    return { pattern: literal, ms: time(() => list.forEach(([input]) => re.test(input))), cases: list.length };
  })
  .sort((a, b) => b.ms - a.ms);

const worstAppSpec = Math.max(...Object.values(refusedInMs).map((r) => r.ms));
// Cutover's own checks: the whole validation less the YAML parse.
const worstBeyondYaml = Math.max(...Object.values(refusedInMs).map((r) => Math.max(0, r.ms - r.yamlParseMs)));
report('validators', {
  targetMs: TARGET_MS,
  runs,
  appSpecs: refusedInMs,
  worstAppSpecMs: worstAppSpec,
  worstBeyondYamlMs: Math.round(worstBeyondYaml * 100) / 100,
  pass: worstBeyondYaml <= TARGET_MS && Object.values(refusedInMs).every((r) => r.refused),
  oldWebhookPatternOn64KiBMs: oldPatternMs,
  patterns: { count: patterns.length, slowest: patterns.slice(0, 5) },
});
