/**
 * The agent's configuration (flags, then CUTOVER_AGENT_* variables, then defaults; every problem at
 * once; --help names every option) and its identity on EC2 (IMDSv2: a token, then the document).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_HELP, AgentConfigError, parseAgentConfig } from '../../src/agent/config.js';
import { instanceIdentity } from '../../src/agent/identity.js';

describe('parseAgentConfig', () => {
  it('flags win over the environment; the environment over the defaults', () => {
    expect(
      parseAgentConfig(['--endpoint', 'http://127.0.0.1:4980', '--poll-seconds', '5'], {
        CUTOVER_AGENT_POLL_SECONDS: '30',
        CUTOVER_AGENT_HOST_ID: 'web-01',
        CUTOVER_AGENT_ROOT: '/var/lib/cutover',
        CUTOVER_AGENT_PASS_CREDENTIALS: 'true',
        AWS_REGION: 'eu-west-1',
      }),
    ).toEqual({
      endpoint: 'http://127.0.0.1:4980',
      root: '/var/lib/cutover',
      hostId: 'web-01',
      pollSeconds: 5,
      heartbeatSeconds: 20,
      region: 'eu-west-1',
      maxRevisions: 5,
      maxBundleBytes: 2048 * 1024 * 1024,
      maxUnpackedBytes: 8192 * 1024 * 1024,
      downloadTimeoutSeconds: 900,
      maxConcurrent: 16,
      sign: 'auto',
      passCredentials: true,
      verbose: false,
    });
    expect(parseAgentConfig(['--help'], {})).toBe('help');
  });

  it('reports every problem at once', () => {
    try {
      parseAgentConfig(['--poll-seconds', 'soon', '--root', 'relative', '--sign', 'sometimes'], {
        CUTOVER_AGENT_MAX_REVISIONS: '0',
        CUTOVER_AGENT_VERBOSE: 'maybe',
      });
      throw new Error('expected a refusal');
    } catch (e) {
      expect(e).toBeInstanceOf(AgentConfigError);
      expect((e as AgentConfigError).problems).toEqual([
        '--endpoint (CUTOVER_AGENT_ENDPOINT) is required: the Cutover API to poll, e.g. http://127.0.0.1:4980',
        '--root (CUTOVER_AGENT_ROOT): an absolute directory, got "relative"',
        '--sign (CUTOVER_AGENT_SIGN): auto, always or never, got "sometimes"',
        '--poll-seconds (CUTOVER_AGENT_POLL_SECONDS): a number from 0.2 to 3600, got "soon"',
        '--max-revisions (CUTOVER_AGENT_MAX_REVISIONS): a whole number from 1 to 1000, got "0"',
        'CUTOVER_AGENT_VERBOSE: true or false, got "maybe"',
      ]);
    }
    expect(() => parseAgentConfig(['--no-such-flag'], {})).toThrow(AgentConfigError);
  });

  it('--help explains every option and its variable', () => {
    for (const flag of [
      'endpoint',
      'root',
      'host-id',
      'poll-seconds',
      'heartbeat-seconds',
      'region',
      's3-endpoint',
      'max-revisions',
      'max-bundle-mb',
      'max-unpacked-mb',
      'download-timeout-seconds',
      'max-concurrent',
      'sign',
      'pass-credentials',
      'imds-endpoint',
      'verbose',
    ]) {
      expect(AGENT_HELP).toContain(`--${flag}`);
      expect(AGENT_HELP).toContain(`CUTOVER_AGENT_${flag.toUpperCase().replace(/-/g, '_')}`);
    }
  });
});

describe('instanceIdentity (IMDSv2)', () => {
  const servers: ReturnType<typeof createServer>[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
  });
  async function imds(handler: Parameters<typeof createServer>[1]) {
    const s = createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  it('asks for a token (PUT), then the identity document with it; the host is the instance ARN', async () => {
    const seen: string[] = [];
    const url = await imds((req, res) => {
      seen.push(
        `${req.method} ${req.url} ${String(req.headers['x-aws-ec2-metadata-token-ttl-seconds'] ?? req.headers['x-aws-ec2-metadata-token'])}`,
      );
      if (req.method === 'PUT' && req.url === '/latest/api/token') return res.end('TOKEN-1');
      if (
        req.url === '/latest/dynamic/instance-identity/document' &&
        req.headers['x-aws-ec2-metadata-token'] === 'TOKEN-1'
      )
        return res.end(JSON.stringify({ instanceId: 'i-0abc', region: 'cn-north-1', accountId: '111111111111' }));
      res.writeHead(401).end();
    });
    expect(await instanceIdentity(url)).toEqual({
      instanceId: 'i-0abc',
      region: 'cn-north-1',
      accountId: '111111111111',
      hostIdentifier: 'arn:aws-cn:ec2:cn-north-1:111111111111:instance/i-0abc',
    });
    expect(seen).toEqual(['PUT /latest/api/token 21600', 'GET /latest/dynamic/instance-identity/document TOKEN-1']);
  });

  it('bounded: no IMDS, or one that never answers, fails saying to give --host-id', async () => {
    await expect(instanceIdentity('http://127.0.0.1:1', 500)).rejects.toThrow(/outside EC2, give --host-id/);
    const silent = await imds(() => undefined);
    await expect(instanceIdentity(silent, 300)).rejects.toThrow(
      /cannot read the instance identity from IMDS .*give --host-id/,
    );
  });
});
