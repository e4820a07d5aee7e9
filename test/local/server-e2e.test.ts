/**
 * Server deployments end to end with real hosts: a world file declaring hosts, one real `cutover agent`
 * process per host (its own credentials, root and filesystem under the state folder), a real tgz bundle in
 * the local S3 with files and scripts, the real state machine. Revision 2 installs on every host and its
 * scripts run; revision 3 fails ValidateService on two hosts (HEALTH_CONSTRAINTS), and the automatic rollback redeploys
 * revision 2. Real time (a session with hosts is not compressed): generous bounds, no timing assertions.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorldFile } from '../../src/config/world-file.js';
import { LOCAL_REVISION_BUCKET } from '../../src/local/s3.js';
import { TASKS } from '../../src/tasks/index.js';
import { openSession, type Session } from '../../src/wiring/session.js';
import type { Deployment } from '../../src/domain/model.js';
import { tgz } from '../support/archives.js';

const HOSTS = ['i-0e2e000000000001', 'i-0e2e000000000002', 'i-0e2e000000000003', 'i-0e2e000000000004'];
const WORLD = `
servers:
  hosts:
${HOSTS.map((id, i) => `    - id: ${id}\n      tags: { Role: web, Name: web-${i + 1} }`).join('\n')}
  targetGroups:
    - name: web-tg
      healthyAfterSeconds: 0
      deregistrationDelaySeconds: 0
      targets: [${HOSTS.join(', ')}]
applications:
  - name: fleet
    deploymentGroups:
      - name: web
        deploymentConfigName: CodeDeployDefault.HalfAtATime
        ec2TagFilters: [{ Key: Role, Value: web, Type: KEY_AND_VALUE }]
        loadBalancerTargetGroups: [web-tg]
        autoRollbackConfiguration: { enabled: true, events: [DEPLOYMENT_FAILURE] }
`;

const APPSPEC = `version: 0.0
os: linux
files:
  - source: app
    destination: /srv/app
hooks:
  ApplicationStop:
    - location: scripts/stop.sh
  BeforeInstall:
    - location: scripts/record.sh
  AfterInstall:
    - location: scripts/record.sh
  ApplicationStart:
    - location: scripts/record.sh
  ValidateService:
    - location: scripts/validate.sh
      timeout: 60
`;
// Each script appends "<revision> <event>" to the host's own /var/log/app-events (under its filesystem).
const record = (rev: number) =>
  `#!/bin/sh\nset -e\nmkdir -p "$CUTOVER_DESTINATION_ROOT/var/log"\necho "${rev} $LIFECYCLE_EVENT" >> "$CUTOVER_DESTINATION_ROOT/var/log/app-events"\n`;
const validate = (rev: number, failOn: string[]) =>
  `${record(rev)}grep -q "${rev}" "$CUTOVER_DESTINATION_ROOT/srv/app/version"\n` +
  failOn
    .map(
      (h) =>
        `if [ "$CUTOVER_LOCAL_HOST" = "${h}" ]; then echo "validate: broken on $CUTOVER_LOCAL_HOST" >&2; exit 3; fi\n`,
    )
    .join('');
const bundle = (rev: number, failOn: string[]) =>
  tgz({
    'appspec.yml': APPSPEC,
    'app/version': `${rev}\n`,
    'app/index.html': `<h1>revision ${rev}</h1>\n`,
    'scripts/stop.sh': record(rev),
    'scripts/record.sh': record(rev),
    'scripts/validate.sh': validate(rev, failOn),
  });

let session: Session;
let stateDir: string;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'cutover-server-e2e-'));
  session = await openSession({ stateDir, speed: 60, world: parseWorldFile(WORLD), fresh: true, command: 'test' });
}, 60_000);
afterAll(async () => {
  await session?.close();
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

async function deploy(rev: number, failOn: string[] = []): Promise<string> {
  const key = `fleet/web-${rev}.tgz`;
  const put = await session.s3.client.send(
    new PutObjectCommand({ Bucket: LOCAL_REVISION_BUCKET, Key: key, Body: bundle(rev, failOn) }),
  );
  const { deploymentId } = (await session.run(TASKS.createDeployment, {
    applicationName: 'fleet',
    deploymentGroupName: 'web',
    revision: {
      revisionType: 'S3',
      s3Location: { bucket: LOCAL_REVISION_BUCKET, key, bundleType: 'tgz', eTag: put.ETag },
    },
  })) as { deploymentId: string };
  return deploymentId;
}

const ended = (d: Deployment | undefined) => !!d && ['Succeeded', 'Failed', 'Stopped'].includes(d.state.status);

/** The deployment once it and its rollback (if any) ended (bounded generously: real agents, a loaded machine). */
async function settled(id: string, boundMs = 240_000): Promise<Deployment> {
  const until = Date.now() + boundMs;
  for (;;) {
    const d = await session.deps.deployments.get(id);
    const r = d?.state.rollbackInfo?.rollbackDeploymentId;
    if (ended(d) && (!r || ended(await session.deps.deployments.get(r)))) return d!;
    if (Date.now() > until) throw new Error(`${id} did not end: ${JSON.stringify(d?.state)}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

const fs = (host: string, path: string) => join(stateDir, 'hosts', host, 'fs', path);

describe('Server deployments with real local agents', () => {
  it('starts one agent per host, each with its own folders', () => {
    expect(session.speed).toBe(1);
    expect(session.hosts.map((h) => h.id)).toEqual(HOSTS);
    for (const h of session.hosts) expect(h.pid).toBeGreaterThan(0);
  });

  it('revision 2 installs on every host and its scripts run; revision 3 fails ValidateService on two hosts and rolls back to 2', async () => {
    const first = await deploy(2);
    const d2 = await settled(first);
    expect(d2.state.status, JSON.stringify(d2.state.errorInformation)).toBe('Succeeded');
    for (const h of HOSTS) {
      expect(readFileSync(fs(h, 'srv/app/version'), 'utf8')).toBe('2\n');
      expect(readFileSync(fs(h, 'srv/app/index.html'), 'utf8')).toContain('revision 2');
      const events = readFileSync(fs(h, 'var/log/app-events'), 'utf8').trim().split('\n');
      expect(events).toEqual(['2 BeforeInstall', '2 AfterInstall', '2 ApplicationStart', '2 ValidateService']);
      // Nothing went to the machine's own /srv: the agent's destinations are under the host's filesystem.
      expect(existsSync(join(stateDir, 'hosts', h, 'root', 'deployment-instructions'))).toBe(true);
    }

    // HalfAtATime keeps 2 of 4 hosts healthy: one failed host leaves 3 (CodeDeploy's deployment succeeds),
    // a second one takes the fleet to the minimum, and the deployment stops.
    const broken = [HOSTS[0]!, HOSTS[1]!];
    const second = await deploy(3, broken);
    const d3 = await settled(second);
    expect(d3.state.status).toBe('Failed');
    expect(d3.state.errorInformation?.code).toBe('HEALTH_CONSTRAINTS');
    const failedHosts = (await session.deps.hostCommands.listHosts(second)).filter((h) => h.status === 'Failed');
    expect(failedHosts.map((h) => h.hostId).sort()).toEqual(broken);
    const validateEvent = failedHosts[0]!.lifecycleEvents.find((e) => e.lifecycleEventName === 'ValidateService');
    expect(validateEvent?.status).toBe('Failed');
    expect(validateEvent?.diagnostics?.logTail).toContain('broken on');

    const rollbackId = d3.state.rollbackInfo?.rollbackDeploymentId;
    expect(rollbackId).toBeDefined();
    const r = (await session.deps.deployments.get(rollbackId!))!;
    expect(r.spec.creator).toBe('codeDeployRollback');
    expect(r.state.status).toBe('Succeeded');
    expect(r.spec.revision).toMatchObject({ s3Location: { key: 'fleet/web-2.tgz' } });
    // The world afterwards: revision 2's files on every host, every host back in its target group, healthy.
    for (const h of HOSTS) expect(readFileSync(fs(h, 'srv/app/version'), 'utf8')).toBe('2\n');
    const redeployed = await session.deps.hostCommands.listHosts(rollbackId!);
    expect(redeployed.map((h) => h.status)).toEqual(redeployed.map(() => 'Succeeded'));
    for (const b of broken) expect(redeployed.map((h) => h.hostId)).toContain(b);
    for (const h of redeployed)
      expect(readFileSync(fs(h.hostId, 'var/log/app-events'), 'utf8')).toMatch(/2 ValidateService\n$/);
    expect(session.world.servers.registered('web-tg').sort()).toEqual(HOSTS);
  }, 600_000);
});
