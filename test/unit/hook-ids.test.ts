/** Hook execution ids are bearer credentials: stored only as sha256 hashes, and matched by hash. */
import { afterAll, expect, it } from 'vitest';
import { hookExecutionIdHash } from '../../src/domain/ids.js';
import { TASKS } from '../../src/tasks/index.js';
import { appSpec, testEnv, type TestEnv } from '../support/local.js';

let env: TestEnv | undefined;
afterAll(async () => env?.close());

it('the table and the deployment keep only the hash; the hash itself is no credential', async () => {
  env = await testEnv({ hookConfiguration: { AfterAllowTraffic: { timeoutSeconds: 60 } } });
  let id: string | undefined;
  env.world.registerHook('postHook', async (payload: { LifecycleEventHookExecutionId?: string }) => {
    id = payload.LifecycleEventHookExecutionId;
  });
  const r = await env.deploy(appSpec({ after: 'postHook' }));
  expect(id).toBeDefined();
  const hash = hookExecutionIdHash(id!);
  expect(hash).toMatch(/^[0-9a-f]{64}$/);
  const record = JSON.stringify(await env.deps.deployments.get(r.deploymentId));
  expect(record).not.toContain(id!);
  expect(record).toContain(hash);
  expect(await env.deps.hookExecutions.get(hash)).toMatchObject({ idHash: hash, deploymentId: r.deploymentId });
  expect(await env.deps.hookExecutions.get(id!)).toBeUndefined();
  expect(JSON.stringify(r.execution)).not.toContain(id!);
  // Someone who read the table holds the hash: reporting with it is an unknown id.
  await expect(
    TASKS.putLifecycleEventHookExecutionStatus.run(
      { deploymentId: r.deploymentId, lifecycleEventHookExecutionId: hash, status: 'Succeeded' },
      env.deps,
    ),
  ).rejects.toMatchObject({ exceptionName: 'InvalidLifecycleEventHookExecutionIdException' });
});
