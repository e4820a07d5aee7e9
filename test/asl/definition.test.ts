/** Static checks of statemachines/deployment.asl.json and of names across ASL, tasks and serverless.yml. */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import aslValidator from 'asl-validator';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { NEXT_KINDS, type NextKind } from '../../src/domain/lifecycle.js';
import { boundTaskName } from '../../src/local/runtime.js';
import { DEFINITION_ERRORS, RETRY, ROUTES, definitionText } from '../../src/statemachine/definition.js';
import { API_TASKS, EVENT_TASKS, STATE_MACHINE_TASKS } from '../../src/tasks/task.js';
import { TASKS } from '../../src/tasks/index.js';
import { API_FUNCTIONS } from '../../src/wiring/functions.js';

const text = readFileSync('statemachines/deployment.asl.json', 'utf8');
// ASL is read path by path below; a type for every path would only restate the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AslState = Record<string, any>;
const asl = JSON.parse(text) as { StartAt: string; States: Record<string, AslState> };
const states = Object.entries(asl.States);
const tasks = states.filter(([, s]) => s.Type === 'Task');

function walk(v: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(v)) v.forEach((x) => walk(x, visit));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      visit(k, x);
      walk(x, visit);
    }
  }
}

describe('deployment.asl.json', () => {
  it('is what the builder writes (src/statemachine/definition.ts; npm run generate)', () => {
    expect(text).toBe(definitionText());
  });

  it('is valid ASL (asl-validator)', () => {
    const r = aslValidator(asl as never, { checkArn: false, checkPaths: true });
    expect(r.errors ?? []).toEqual([]);
    expect(r.isValid).toBe(true);
  });

  it('is JSONPath only: no JSONata, no Arguments/Output/Assign, no ${ (Serverless would resolve it)', () => {
    const banned: string[] = [];
    walk(asl, (k, v) => {
      if (['Arguments', 'Output', 'Assign'].includes(k) || (k === 'QueryLanguage' && v === 'JSONata')) banned.push(k);
    });
    expect(banned).toEqual([]);
    expect(text).not.toContain('${');
  });

  it('every Task has a timeout and the retry rules; before the commit point a failure leads to Rollback', () => {
    for (const [name, s] of tasks) {
      expect(s.TimeoutSeconds ?? s.TimeoutSecondsPath, `${name} timeout`).toBeDefined();
      const retried = (s.Retry ?? []).flatMap((r: { ErrorEquals: string[] }) => r.ErrorEquals);
      expect(retried, name).toEqual(expect.arrayContaining(['Lambda.ServiceException', 'DependencyUnavailableError']));
      const catchAll = (s.Catch ?? []).find((c: { ErrorEquals: string[] }) => c.ErrorEquals.includes('States.ALL'));
      // After the commit point nothing may lead to Rollback: Complete has no Catch at all.
      if (name === 'Complete') {
        expect(s.Catch, 'Complete catches nothing').toBeUndefined();
        continue;
      }
      expect(catchAll, `${name} catches States.ALL`).toBeDefined();
      if (name === 'Rollback') expect(catchAll.Next).toBe('RecordOutcome');
      else if (name === 'RecordOutcome') expect(catchAll.Next).toBe('DeploymentFailed');
      // Before a deployment is recorded there is nothing to roll back: an invalid request just fails.
      else if (name === 'RecordDeployment') expect(catchAll.Next).toBe('RequestRejected');
      else expect(catchAll.Next, `${name} → Rollback`).toBe('Rollback');
    }
  });

  it('work that must not give up (Rollback, RecordOutcome, Complete) retries for long; the rest fails fast', () => {
    for (const name of ['Rollback', 'RecordOutcome', 'Complete'])
      expect(asl.States[name]?.Retry).toEqual(RETRY.persistent);
    for (const [name, s] of tasks.filter(([n]) => !['Rollback', 'RecordOutcome', 'Complete'].includes(n)))
      expect(s.Retry, name).toEqual(RETRY.step);
  });

  it('callback Tasks pass $$.Task.Token; each wait’s timeout leads where it should', () => {
    const callbacks = tasks.filter(([, s]) => String(s.Resource).endsWith('.waitForTaskToken'));
    const timeoutGoesTo: Record<string, string> = {
      // A hook's timeout is recorded (and continued or failed per the group); a retry's delay re-invokes it.
      RunHook: 'HookTimedOut',
      WaitToRetryHook: 'RunHook',
      // An action not done yet (a task set becoming steady, a ready or termination wait) runs again.
      AwaitAction: 'RunAction',
      Bake: 'ShiftTraffic',
      AwaitTraffic: 'ShiftTraffic',
      AwaitApproval: 'ApprovalTimedOut',
      Paused: 'PauseTimedOut',
    };
    expect(callbacks.map(([n]) => n).sort()).toEqual(Object.keys(timeoutGoesTo).sort());
    for (const [name, s] of callbacks) {
      expect(JSON.stringify(s.Parameters.Payload), name).toContain('"$$.Task.Token"');
      const onTimeout = s.Catch.find((c: { ErrorEquals: string[] }) => c.ErrorEquals.includes('States.Timeout'));
      expect(onTimeout.Next, name).toBe(timeoutGoesTo[name]);
    }
  });

  it('one block per kind: Route has a branch for every route a task can return, and one hook block serves every event', () => {
    const route = asl.States.Route!;
    expect(route.Choices.map((c: { StringEquals: string }) => c.StringEquals).sort()).toEqual([...NEXT_KINDS].sort());
    for (const c of route.Choices as { StringEquals: NextKind; Next: string }[])
      expect(c.Next).toBe(ROUTES[c.StringEquals]);
    // No state is specific to a lifecycle event or a platform: they are data (src/domain/lifecycle.ts).
    const invokes = tasks.filter(([, s]) => boundTaskName(s) === 'invokeHook');
    expect(invokes.map(([n]) => n)).toEqual(['RunHook']);
    expect(text).not.toMatch(/BeforeAllowTraffic|AfterInstall|Install"|ECS|Lambda"/);
  });

  it('error names in the definition are the contract’s (src/domain/errors.ts)', () => {
    const used = new Set<string>();
    walk(asl, (k, v) => {
      if (k === 'ErrorEquals') for (const e of v as string[]) if (!e.startsWith('Lambda.')) used.add(e);
    });
    for (const s of Object.values(asl.States)) if (s.Type === 'Pass' && s.Result?.Error) used.add(s.Result.Error);
    for (const e of used) expect(DEFINITION_ERRORS, e).toContain(e);
  });

  it('every transition target exists, every state is reachable, names are PascalCase', () => {
    const next = (s: AslState): string[] => [
      ...(s.Next ? [s.Next] : []),
      ...(s.Default ? [s.Default] : []),
      ...(s.Choices ?? []).map((c: { Next: string }) => c.Next),
      ...(s.Catch ?? []).map((c: { Next: string }) => c.Next),
    ];
    const seen = new Set<string>([asl.StartAt]);
    const queue = [asl.StartAt];
    while (queue.length) {
      const name = queue.shift()!;
      const s = asl.States[name];
      expect(s, `state ${name} exists`).toBeDefined();
      for (const n of next(s!)) {
        if (seen.has(n)) continue;
        seen.add(n);
        queue.push(n);
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(asl.States).sort());
    for (const name of Object.keys(asl.States)) expect(name).toMatch(/^[A-Z][A-Za-z]+$/);
  });
});

describe('one name per thing', () => {
  it('ASL task names = STATE_MACHINE_TASKS = serverless.yml engine functions = functions/*.ts (generated)', () => {
    expect(spawnSync('npx', ['tsx', 'scripts/generate.ts', '--check'], { encoding: 'utf8' }).status).toBe(0);
    const aslNames = new Set(tasks.map(([, s]) => boundTaskName(s)));
    expect([...aslNames].sort()).toEqual([...STATE_MACHINE_TASKS].sort());
    const sls = parseYaml(readFileSync('serverless.yml', 'utf8'), {
      customTags: [
        { tag: '!Sub', resolve: (v: string) => v },
        { tag: '!Ref', resolve: (v: string) => v },
        { tag: '!GetAtt', resolve: (v: string) => v },
        { tag: '!Join', collection: 'seq', resolve: (v: unknown) => v },
      ] as never,
    }) as {
      functions: Record<string, { handler: string }>;
    };
    expect(Object.keys(sls.functions).sort()).toEqual(
      [...STATE_MACHINE_TASKS, ...EVENT_TASKS, ...Object.keys(API_FUNCTIONS)].sort(),
    );
    for (const [name, fn] of Object.entries(sls.functions)) expect(fn.handler).toBe(`functions/${name}.handler`);
    const files = readdirSync('functions').map((f) => f.replace(/\.ts$/, ''));
    expect(files.sort()).toEqual(Object.keys(sls.functions).sort());
    for (const name of [...STATE_MACHINE_TASKS, ...API_TASKS, ...EVENT_TASKS]) expect(TASKS[name].name).toBe(name);
    expect(Object.keys(TASKS).sort()).toEqual([...STATE_MACHINE_TASKS, ...API_TASKS, ...EVENT_TASKS].sort());
  });
});
