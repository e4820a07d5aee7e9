/**
 * `cutover app|group|config <action>`: CodeDeploy's catalog operations against a running
 * `cutover server` (or any endpoint speaking CodeDeploy's JSON 1.1 without signing).
 */
import { parseArgs } from 'node:util';
import { callApi } from '../wiring/remote.js';

export class CatalogUsageError extends Error {}

export const CATALOG_HELP: Record<string, string> = {
  app: `Usage: cutover app create|get|list|delete [NAME] [--platform Lambda|ECS] [--output json|table] [--endpoint URL]

Applications (CodeDeploy CreateApplication, GetApplication, ListApplications, DeleteApplication).
create takes --platform (default Lambda).`,
  group: `Usage: cutover group create|update|get|list|delete --application NAME [--group NAME] [options]

Deployment groups. Options for create and update:
  --config NAME            Deployment configuration (default: CodeDeployDefault.LambdaAllAtOnce or ECSAllAtOnce)
  --alarms A,B             CloudWatch alarms to watch (enables alarm checks)
  --ignore-firing-alarms   Baseline mode ignoreAlarmsAlreadyFiring (default failOnAlarmAtStart)
  --hook-timeout SECONDS   Lifecycle hook timeout (default 3600)
  --no-auto-rollback       Leave traffic where it is on failure (default: roll back)
ECS groups (the application's platform is ECS):
  --ecs-service CLUSTER/SERVICE   The service (its deployment controller must be EXTERNAL)
  --target-groups BLUE,GREEN      The two target groups that take turns
  --prod-listener ARN             Production listener    --test-listener ARN   Test listener (optional)
  --ready-wait MINUTES            STOP_DEPLOYMENT: wait for 'cutover continue' before production traffic moves
  --termination-wait MINUTES      Keep the original task set this long after success (TERMINATE)
  --keep-original                 KEEP_ALIVE: never delete the original task set
  --output json|table      Output (default table)   --endpoint URL   API endpoint`,
  config: `Usage: cutover config create|get|list|delete [NAME] [--steps "1% 5m, 10% 10m, 100%" | --canary P:MIN | --linear P:MIN | --all-at-once]

Deployment configurations: CodeDeploy's TimeBasedCanary / TimeBasedLinear / AllAtOnce, or a
Cutover step list. 'list' includes the predefined CodeDeployDefault.Lambda* and ECS* configurations.
create takes --platform Lambda|ECS (default Lambda).`,
};

type Values = Record<string, string | boolean | undefined>;

function table(rows: Record<string, unknown>[], columns: string[]): string {
  const cell = (v: unknown) =>
    v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join(
    '\n',
  );
}

function pair(v: unknown, flag: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(String(v));
  if (!m) throw new CatalogUsageError(`${flag}: expected PERCENT:MINUTES, e.g. 10:5`);
  return [Number(m[1]), Number(m[2])];
}

function minutes(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CatalogUsageError(`${flag}: a whole number of minutes`);
  return n;
}

/** CodeDeploy's ECS group fields from the ECS flags (only those given: update keeps the rest). */
function ecsGroupInput(v: Values): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  if (v['ecs-service'] !== undefined) {
    const m = /^([^/\s]+)\/([^/\s]+)$/.exec(String(v['ecs-service']));
    if (!m) throw new CatalogUsageError('--ecs-service: expected CLUSTER/SERVICE');
    input.ecsServices = [{ clusterName: m[1], serviceName: m[2] }];
  }
  const pairGiven = ['target-groups', 'prod-listener', 'test-listener'].filter((k) => v[k] !== undefined);
  if (pairGiven.length) {
    if (v['target-groups'] === undefined || v['prod-listener'] === undefined)
      throw new CatalogUsageError('--target-groups and --prod-listener go together (and --test-listener with them)');
    input.loadBalancerInfo = {
      targetGroupPairInfoList: [
        {
          targetGroups: String(v['target-groups'])
            .split(',')
            .map((name) => ({ name: name.trim() })),
          prodTrafficRoute: { listenerArns: [String(v['prod-listener'])] },
          ...(v['test-listener'] !== undefined
            ? { testTrafficRoute: { listenerArns: [String(v['test-listener'])] } }
            : {}),
        },
      ],
    };
  }
  const ready = minutes(v['ready-wait'], '--ready-wait');
  const termination = minutes(v['termination-wait'], '--termination-wait');
  if (v['keep-original'] && termination !== undefined)
    throw new CatalogUsageError('--keep-original and --termination-wait exclude each other');
  if (ready !== undefined || termination !== undefined || v['keep-original']) {
    input.blueGreenDeploymentConfiguration = {
      ...(ready !== undefined
        ? {
            deploymentReadyOption:
              ready > 0
                ? { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: ready }
                : { actionOnTimeout: 'CONTINUE_DEPLOYMENT' },
          }
        : {}),
      ...(v['keep-original']
        ? { terminateBlueInstancesOnDeploymentSuccess: { action: 'KEEP_ALIVE' } }
        : termination !== undefined
          ? {
              terminateBlueInstancesOnDeploymentSuccess: {
                action: 'TERMINATE',
                terminationWaitTimeInMinutes: termination,
              },
            }
          : {}),
    };
  }
  return input;
}

export async function catalogCommand(
  kind: 'app' | 'group' | 'config',
  args: string[],
  /** The API to call: --endpoint, or the server holding --state-dir, or the default. */
  endpoint: (v: unknown, stateDir: unknown) => Promise<string>,
  out: (s: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      output: { type: 'string', default: 'table' },
      endpoint: { type: 'string' },
      'state-dir': { type: 'string', default: '.cutover' },
      application: { type: 'string' },
      group: { type: 'string' },
      config: { type: 'string' },
      alarms: { type: 'string' },
      'ignore-firing-alarms': { type: 'boolean' },
      'hook-timeout': { type: 'string' },
      'no-auto-rollback': { type: 'boolean' },
      steps: { type: 'string' },
      canary: { type: 'string' },
      linear: { type: 'string' },
      'all-at-once': { type: 'boolean' },
      platform: { type: 'string' },
      'ecs-service': { type: 'string' },
      'target-groups': { type: 'string' },
      'prod-listener': { type: 'string' },
      'test-listener': { type: 'string' },
      'ready-wait': { type: 'string' },
      'termination-wait': { type: 'string' },
      'keep-original': { type: 'boolean' },
    },
  });
  const v = values as Values;
  if (v.help || positionals.length === 0) return (out(CATALOG_HELP[kind]!), v.help ? 0 : 2);
  if (!['json', 'table'].includes(String(v.output)))
    throw new CatalogUsageError(`--output: json or table, got ${String(v.output)}`);
  const [action, name] = positionals;
  const platform = v.platform === undefined ? 'Lambda' : String(v.platform);
  if (!['Lambda', 'ECS'].includes(platform)) throw new CatalogUsageError(`--platform: Lambda or ECS, got ${platform}`);
  const url = await endpoint(v.endpoint, v['state-dir']);
  const show = (result: Record<string, unknown>, rows: Record<string, unknown>[], columns: string[]) =>
    out(v.output === 'json' ? JSON.stringify(result, null, 2) : table(rows, columns));
  const need = (value: unknown, what: string): string => {
    if (!value) throw new CatalogUsageError(`missing ${what}\n\n${CATALOG_HELP[kind]}`);
    return String(value);
  };

  if (kind === 'app') {
    if (action === 'list') {
      const r = await callApi(url, 'ListApplications', {});
      return (
        show(
          r,
          ((r.applications as string[]) ?? []).map((n) => ({ application: n })),
          ['application'],
        ),
        0
      );
    }
    const app = need(name, 'NAME');
    if (action === 'create')
      return (
        show(
          await callApi(url, 'CreateApplication', { applicationName: app, computePlatform: platform }),
          [{ application: app, status: 'created' }],
          ['application', 'status'],
        ),
        0
      );
    if (action === 'get') {
      const r = await callApi(url, 'GetApplication', { applicationName: app });
      return (
        show(r, [r.application as Record<string, unknown>], ['applicationName', 'applicationId', 'computePlatform']),
        0
      );
    }
    if (action === 'delete')
      return (
        show(
          await callApi(url, 'DeleteApplication', { applicationName: app }),
          [{ application: app, status: 'deleted' }],
          ['application', 'status'],
        ),
        0
      );
  }

  if (kind === 'group') {
    const app = need(v.application, '--application');
    if (action === 'list') {
      const r = await callApi(url, 'ListDeploymentGroups', { applicationName: app });
      return (
        show(
          r,
          ((r.deploymentGroups as string[]) ?? []).map((g) => ({ group: g })),
          ['group'],
        ),
        0
      );
    }
    const group = need(v.group, '--group');
    if (action === 'get') {
      const r = await callApi(url, 'GetDeploymentGroup', { applicationName: app, deploymentGroupName: group });
      return (
        show(
          r,
          [r.deploymentGroupInfo as Record<string, unknown>],
          ['deploymentGroupName', 'deploymentConfigName', 'alarmConfiguration', 'autoRollbackConfiguration'],
        ),
        0
      );
    }
    if (action === 'delete')
      return (
        show(
          await callApi(url, 'DeleteDeploymentGroup', { applicationName: app, deploymentGroupName: group }),
          [{ group, status: 'deleted' }],
          ['group', 'status'],
        ),
        0
      );
    if (action === 'create' || action === 'update') {
      const hookTimeout = v['hook-timeout'] === undefined ? undefined : Number(v['hook-timeout']);
      if (hookTimeout !== undefined && !(Number.isInteger(hookTimeout) && hookTimeout > 0))
        throw new CatalogUsageError('--hook-timeout: a whole number of seconds');
      const alarms = v.alarms
        ? String(v.alarms)
            .split(',')
            .map((a) => a.trim())
            .filter(Boolean)
        : undefined;
      const input = {
        applicationName: app,
        [action === 'create' ? 'deploymentGroupName' : 'currentDeploymentGroupName']: group,
        ...(v.config ? { deploymentConfigName: v.config } : {}),
        ...(alarms
          ? {
              alarmConfiguration: {
                enabled: alarms.length > 0,
                alarms: alarms.map((a) => ({ name: a })),
                baselineMode: v['ignore-firing-alarms'] ? 'ignoreAlarmsAlreadyFiring' : 'failOnAlarmAtStart',
              },
            }
          : {}),
        ...(hookTimeout ? { hookTimeoutSeconds: hookTimeout } : {}),
        ...(v['no-auto-rollback'] ? { autoRollbackConfiguration: { enabled: false, events: [] } } : {}),
        ...ecsGroupInput(v),
      };
      const r = await callApi(url, action === 'create' ? 'CreateDeploymentGroup' : 'UpdateDeploymentGroup', input);
      return (show(r, [{ group, status: action === 'create' ? 'created' : 'updated' }], ['group', 'status']), 0);
    }
  }

  if (kind === 'config') {
    if (action === 'list') {
      const r = await callApi(url, 'ListDeploymentConfigs', {});
      return (
        show(
          r,
          ((r.deploymentConfigsList as string[]) ?? []).map((c) => ({ config: c })),
          ['config'],
        ),
        0
      );
    }
    const config = need(name, 'NAME');
    if (action === 'get') {
      const r = await callApi(url, 'GetDeploymentConfig', { deploymentConfigName: config });
      return (
        show(r, [r.deploymentConfigInfo as Record<string, unknown>], ['deploymentConfigName', 'trafficRoutingConfig']),
        0
      );
    }
    if (action === 'delete')
      return (
        show(
          await callApi(url, 'DeleteDeploymentConfig', { deploymentConfigName: config }),
          [{ config, status: 'deleted' }],
          ['config', 'status'],
        ),
        0
      );
    if (action === 'create') {
      const kinds = ['steps', 'canary', 'linear', 'all-at-once'].filter((k) => v[k] !== undefined);
      if (kinds.length !== 1)
        throw new CatalogUsageError(
          `give exactly one of --steps, --canary, --linear, --all-at-once\n\n${CATALOG_HELP.config}`,
        );
      let trafficRoutingConfig: unknown = v.steps;
      if (v.canary) {
        const [p, i] = pair(v.canary, '--canary');
        trafficRoutingConfig = { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: p, canaryInterval: i } };
      } else if (v.linear) {
        const [p, i] = pair(v.linear, '--linear');
        trafficRoutingConfig = { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: p, linearInterval: i } };
      } else if (v['all-at-once']) trafficRoutingConfig = { type: 'AllAtOnce' };
      const r = await callApi(url, 'CreateDeploymentConfig', {
        deploymentConfigName: config,
        computePlatform: platform,
        trafficRoutingConfig,
      });
      return (show(r, [{ config, status: 'created' }], ['config', 'status']), 0);
    }
  }
  throw new CatalogUsageError(`unknown action '${String(action)}'\n\n${CATALOG_HELP[kind]}`);
}
