/** Server deployment configurations: the predefined ones, custom minimums and zonal configurations, waves. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/domain/errors.js';
import { parseStepList } from '../../src/domain/deployment-config.js';
import {
  DEFAULT_SERVER_CONFIG,
  PREDEFINED_SERVER_CONFIGS,
  parseWaves,
  predefinedServerConfig,
  serverConfigIssues,
  serverSchedulingConfig,
  waveIssues,
} from '../../src/platforms/server/deployment-config.js';

const rejection = (fn: () => unknown): InvalidInputError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidInputError) return e;
    throw e;
  }
  throw new Error('expected InvalidInputError');
};
const paths = (input: unknown) => serverConfigIssues(input).map((i) => i.path);

describe('predefined Server configurations', () => {
  it('are reported as GetDeploymentConfig reports them; OneAtATime is the default', () => {
    expect(predefinedServerConfig('CodeDeployDefault.OneAtATime')).toEqual({
      deploymentConfigName: 'CodeDeployDefault.OneAtATime',
      deploymentConfigId: 'predefined-CodeDeployDefault.OneAtATime',
      computePlatform: 'Server',
      minimumHealthyHosts: { type: 'MOST_CONCURRENCY', value: 1 },
      createTime: '2014-10-06T00:00:00.000Z',
    });
    expect(predefinedServerConfig('CodeDeployDefault.HalfAtATime')?.minimumHealthyHosts).toEqual({
      type: 'FLEET_PERCENT',
      value: 50,
    });
    expect(predefinedServerConfig('CodeDeployDefault.AllAtOnce')?.minimumHealthyHosts).toEqual({
      type: 'FLEET_PERCENT',
      value: 0,
    });
    expect(Object.keys(PREDEFINED_SERVER_CONFIGS)).toHaveLength(3);
    expect(DEFAULT_SERVER_CONFIG).toBe('CodeDeployDefault.OneAtATime');
    expect(predefinedServerConfig('CodeDeployDefault.LambdaAllAtOnce')).toBeUndefined();
  });

  it('hand out copies: changing one does not change the table', () => {
    predefinedServerConfig('CodeDeployDefault.AllAtOnce')!.minimumHealthyHosts.value = 99;
    expect(PREDEFINED_SERVER_CONFIGS['CodeDeployDefault.AllAtOnce']?.value).toBe(0);
  });
});

describe('custom minimum healthy hosts and zonal configurations', () => {
  it('accepts CodeDeploy’s values: HOST_COUNT 0 or more, FLEET_PERCENT 0 to 99 (ThreeQuartersHealthy: 75)', () => {
    for (const m of [
      { type: 'HOST_COUNT', value: 0 },
      { type: 'HOST_COUNT', value: 250 },
      { type: 'FLEET_PERCENT', value: 0 },
      { type: 'FLEET_PERCENT', value: 75 },
      { type: 'FLEET_PERCENT', value: 99 },
    ]) {
      expect(serverConfigIssues({ minimumHealthyHosts: m })).toEqual([]);
    }
  });

  it('rejects the rest with InvalidMinimumHealthyHostValueException, naming each field', () => {
    expect(paths({})).toEqual(['minimumHealthyHosts']);
    expect(paths({ minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 100 } })).toEqual([
      'minimumHealthyHosts.value',
    ]);
    expect(paths({ minimumHealthyHosts: { type: 'HOST_COUNT', value: -1 } })).toEqual(['minimumHealthyHosts.value']);
    expect(paths({ minimumHealthyHosts: { type: 'HOST_COUNT', value: 1.5 } })).toEqual(['minimumHealthyHosts.value']);
    expect(paths({ minimumHealthyHosts: { type: 'PERCENT', value: '5' } })).toEqual([
      'minimumHealthyHosts.type',
      'minimumHealthyHosts.value',
    ]);
    const mostConcurrency = serverConfigIssues({ minimumHealthyHosts: { type: 'MOST_CONCURRENCY', value: 1 } });
    expect(mostConcurrency[0]?.message).toMatch(/cannot be set.*OneAtATime/);
    expect(
      serverConfigIssues(
        { minimumHealthyHosts: { type: 'MOST_CONCURRENCY', value: 1 } },
        { allowMostConcurrency: true },
      ),
    ).toEqual([]);
    const e = rejection(() => serverSchedulingConfig({ minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 100 } }));
    expect(e.exceptionName).toBe('InvalidMinimumHealthyHostValueException');
    expect(e.message).toMatch(/minimumHealthyHosts\.value: a FLEET_PERCENT minimum must be less than 100/);
  });

  it('zonal configurations: durations in whole seconds, a per-zone minimum like the overall one; all at once', () => {
    const ok = { minimumHealthyHosts: { type: 'HOST_COUNT', value: 2 } };
    expect(
      serverConfigIssues({
        ...ok,
        zonalConfig: {
          firstZoneMonitorDurationInSeconds: 3600,
          monitorDurationInSeconds: 1800,
          minimumHealthyHostsPerZone: { type: 'HOST_COUNT', value: 1 },
        },
      }),
    ).toEqual([]);
    expect(serverConfigIssues({ ...ok, zonalConfig: {} })).toEqual([]);
    const e = rejection(() =>
      serverSchedulingConfig({
        minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 120 },
        zonalConfig: {
          firstZoneMonitorDurationInSeconds: -5,
          monitorDurationInSeconds: 1.5,
          minimumHealthyHostsPerZone: { type: 'FLEET_PERCENT', value: 100 },
        },
      }),
    );
    expect(e.issues.map((i) => i.path)).toEqual([
      'minimumHealthyHosts.value',
      'zonalConfig.firstZoneMonitorDurationInSeconds',
      'zonalConfig.monitorDurationInSeconds',
      'zonalConfig.minimumHealthyHostsPerZone.value',
    ]);
    expect(e.exceptionName).toBe('InvalidMinimumHealthyHostValueException');
    const zonal = rejection(() => serverSchedulingConfig({ ...ok, zonalConfig: { monitorDurationInSeconds: -1 } }));
    expect(zonal.exceptionName).toBe('InvalidZonalDeploymentConfigurationException');
    expect(paths({ ...ok, zonalConfig: 'az' })).toEqual(['zonalConfig']);
  });

  it('normalizes: keeps only the known fields, fills bakes and approval timeouts, parses waves given as text', () => {
    expect(
      serverSchedulingConfig({
        minimumHealthyHosts: { type: 'HOST_COUNT', value: 1, extra: true },
        zonalConfig: { monitorDurationInSeconds: 60, other: 1 },
      }),
    ).toEqual({
      minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 },
      zonalConfig: { monitorDurationInSeconds: 60 },
    });
    expect(
      serverSchedulingConfig({
        minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 },
        waves: [{ hosts: 2 }, { approve: true }, { percentage: 100 }],
      }),
    ).toEqual(
      serverSchedulingConfig({
        minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 },
        waves: '2 hosts, approve, 100%',
      }),
    );
    expect(
      serverSchedulingConfig({
        minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 },
        waves: '2 hosts, approve, 100%',
      }),
    ).toEqual({
      minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 },
      waves: [
        { hosts: 2, bakeSeconds: 0 },
        { approve: true, timeoutSeconds: 3600 },
        { percentage: 100, bakeSeconds: 0 },
      ],
    });
  });
});

describe('waves', () => {
  it('parse the step-list syntax with host counts: 1 host 10m, 10% 15m, 50%, 100%', () => {
    expect(parseWaves('1 host 10m, 10% 15m, 50%, 100%')).toEqual([
      { hosts: 1, bakeSeconds: 600 },
      { percentage: 10, bakeSeconds: 900 },
      { percentage: 50, bakeSeconds: 0 },
      { percentage: 100, bakeSeconds: 0 },
    ]);
    expect(parseWaves('2 hosts, approve 1h, 25% 5m, 100%')).toEqual([
      { hosts: 2, bakeSeconds: 0 },
      { approve: true, timeoutSeconds: 3600 },
      { percentage: 25, bakeSeconds: 300 },
      { percentage: 100, bakeSeconds: 0 },
    ]);
    expect(parseWaves('10% 5m,100%')).toEqual([
      { percentage: 10, bakeSeconds: 300 },
      { percentage: 100, bakeSeconds: 0 },
    ]);
    expect(parseWaves('3 HOSTS 1h30m, 0.5%, 100%')[0]).toEqual({ hosts: 3, bakeSeconds: 5400 });
    for (const text of ['1 host 10m, 10% 15m, 50%, 100%', '2 hosts, approve 1h, 25% 5m, 100%', '10% 5m, 100%']) {
      expect(waveIssues(parseWaves(text))).toEqual([]);
    }
  });

  it('name every part that cannot be read, by index, with the step-list exception', () => {
    const e = rejection(() => parseWaves('one host, 10% soon, approve later, 100%'));
    expect(e.exceptionName).toBe('InvalidTrafficRoutingConfigurationException');
    expect(e.issues.map((i) => i.path)).toEqual(['waves[0]', 'waves[1]', 'waves[2]']);
    expect(e.issues[0]?.message).toBe(
      '"one host" is not "<n> host(s) [<bake>]", "<percent>% [<bake>]" or "approve [<timeout>]", e.g. "1 host 10m"',
    );
    // The shared parser words Lambda/ECS step lists exactly as before.
    expect(rejection(() => parseStepList('ten, 100%')).issues[0]?.message).toBe(
      '"ten" is not "<percent>% [<bake>]" or "approve [<timeout>]", e.g. "10% 5m"',
    );
  });

  it('reject what cannot be scheduled, each problem with its path', () => {
    const problems = (text: string) => waveIssues(parseWaves(text)).map((i) => `${i.path}: ${i.message}`);
    expect(problems('10%, 5 hosts, 100%')).toEqual([
      'waves[1].hosts: must come before the percentage waves: whether 5 hosts is more than 10% depends on the fleet',
    ]);
    expect(problems('50%, 10%, 100%')).toEqual(['waves[1].percentage: must be more than the previous wave (50%)']);
    expect(problems('3 hosts, 2 hosts, 100%')).toEqual([
      'waves[1].hosts: must be more than the previous wave (3 hosts)',
    ]);
    expect(problems('10% 5m')).toEqual([
      'waves[0].percentage: the last wave must be 100%',
      'waves[0].bakeSeconds: the last wave has no bake: the deployment ends when it is done',
    ]);
    expect(problems('5 hosts')).toEqual(['waves[0]: the last wave must be 100%']);
    expect(problems('10%, 100% 5m')).toEqual([
      'waves[1].bakeSeconds: the last wave has no bake: the deployment ends when it is done',
    ]);
    expect(problems('100%, 100%')).toEqual([
      'waves[0].percentage: only the last wave may be 100%',
      'waves[1].percentage: must be more than the previous wave (100%)',
    ]);
    expect(problems('approve, 100%')).toEqual(['waves[0]: an approval must follow a wave']);
    expect(problems('10%, approve, approve, 100%')).toEqual(['waves[2]: only one approval may follow a wave']);
    expect(problems('10%, approve')).toEqual(['waves[1]: the last wave must be 100%, not an approval']);
    expect(problems('0 hosts, 100%')).toEqual(['waves[0].hosts: must be a whole number, 1 or more']);
    expect(problems('0.001%, 100%')).toEqual(['waves[0].percentage: must be a multiple of 0.01']);
    expect(problems('10% 30h, 50% 30h, 100%')).toEqual([
      'waves: bakes add up to 3600 minutes, more than the 2880-minute cap',
    ]);
    expect(problems('10%, approve 200h, 100%')[0]).toMatch(/^waves\[1\]\.timeoutSeconds: must be a whole number/);
    expect(waveIssues(Array.from({ length: 101 }, (_, i) => ({ percentage: (i + 1) / 1.01, bakeSeconds: 0 })))).toEqual(
      expect.arrayContaining([{ path: 'waves', message: 'at most 100 steps' }]),
    );
    expect(waveIssues([])).toHaveLength(1);
    expect(waveIssues([{ hosts: 1, percentage: 5 }, { percentage: 100 }])[0]?.message).toMatch(/not both/);
    expect(waveIssues([{ bakeSeconds: 5 }, { percentage: 100 }])[0]?.path).toBe('waves[0]');
  });

  it('cannot be combined with a zonal configuration', () => {
    const e = rejection(() =>
      serverSchedulingConfig({
        minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 },
        zonalConfig: {},
        waves: '10%, 100%',
      }),
    );
    expect(e.issues.map((i) => i.path)).toEqual(['waves']);
    expect(e.exceptionName).toBe('InvalidTrafficRoutingConfigurationException');
  });

  it('property: increasing host counts, then increasing percentages ending at 100%, with approvals, are valid', () => {
    const wave = fc
      .record({
        hosts: fc.uniqueArray(fc.integer({ min: 1, max: 50 }), { maxLength: 3 }),
        hundredths: fc.uniqueArray(fc.integer({ min: 1, max: 9999 }), { maxLength: 5 }),
        bake: fc.integer({ min: 0, max: 3600 }),
        approveAfter: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      })
      .map(({ hosts, hundredths, bake, approveAfter }) => {
        const targets = [
          ...[...hosts].sort((a, b) => a - b).map((h) => `${h} host${h === 1 ? '' : 's'}`),
          ...[...hundredths].sort((a, b) => a - b).map((h) => `${h / 100}%`),
        ];
        return [...targets.flatMap((t, i) => [`${t} ${bake}s`, ...(approveAfter[i] ? ['approve 30m'] : [])]), '100%'];
      });
    fc.assert(
      fc.property(wave, (parts) => {
        const parsed = parseWaves(parts.join(', '));
        expect(waveIssues(parsed)).toEqual([]);
        expect(parsed.at(-1)).toEqual({ percentage: 100, bakeSeconds: 0 });
      }),
      { numRuns: 300 },
    );
  });
});
