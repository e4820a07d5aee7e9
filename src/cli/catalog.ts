/**
 * `cutover app|group|config <action>`: CodeDeploy's catalog operations against a running
 * `cutover server` (or any endpoint speaking CodeDeploy's JSON 1.1 without signing).
 */
import { callApi } from '../wiring/remote.js';
import { columns, type Values } from './options.js';

export class CatalogUsageError extends Error {}

const more = (kind: string) => `Run 'cutover ${kind} --help' for its actions and options.`;

function table(rows: Record<string, unknown>[], names: string[]): string {
  const cell = (v: unknown) =>
    v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return columns([names.map((c) => c.toUpperCase()), ...rows.map((r) => names.map((c) => cell(r[c])))]).join('\n');
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
  /** Parsed by the CLI's option table (commands.ts). */
  values: Values,
  positionals: string[],
  /** The API to call: --endpoint, or the server holding --state-dir, or the default. */
  endpoint: (v: unknown, stateDir: unknown) => Promise<string>,
  out: (s: string) => void,
): Promise<number> {
  const v = values;
  if (positionals.length === 0) throw new CatalogUsageError(`missing the action\n\n${more(kind)}`);
  const [action, name] = positionals;
  const platform = v.platform === undefined ? 'Lambda' : String(v.platform);
  if (!['Lambda', 'ECS'].includes(platform)) throw new CatalogUsageError(`--platform: Lambda or ECS, got ${platform}`);
  const url = await endpoint(v.endpoint, v['state-dir']);
  const show = (result: Record<string, unknown>, rows: Record<string, unknown>[], columns: string[]) =>
    out(v.output === 'json' ? JSON.stringify(result, null, 2) : table(rows, columns));
  const need = (value: unknown, what: string): string => {
    if (!value) throw new CatalogUsageError(`missing ${what}\n\n${more(kind)}`);
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
          `give exactly one of --steps, --canary, --linear, --all-at-once\n\n${more('config')}`,
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
  throw new CatalogUsageError(`unknown action '${String(action)}'\n\n${more(kind)}`);
}
