/** Driving the real `cutover` command in child processes (no timed assertions: conditions are polled). */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const BIN = resolve('bin/cutover.js');

export interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Run `cutover args` in `cwd` without blocking the event loop (a server child must keep answering). */
export function cutoverAsync(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('exit', (code) => done({ code, out, err }));
  });
}

/** Poll `check` until it returns something truthy; fail (naming `what`) after a generous bound. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, boundMs = 90_000): Promise<NonNullable<T>> {
  const until = Date.now() + boundMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Child {
  process: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
}

/** Start a long-running `cutover` command (server, deploy) and collect its output. */
export function startCutover(args: string[], cwd: string): Child {
  const p = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  p.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  p.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
  return { process: p, out: () => out, err: () => err, exited };
}

/** Start `cutover server` on free ports in `cwd`; resolves with its API URL once it listens. */
export async function startServer(cwd: string, extra: string[] = []): Promise<Child & { url: string }> {
  const child = startCutover(['server', '--port', '0', '--s3-port', '0', ...extra], cwd);
  let ended = false;
  void child.exited.then(() => (ended = true));
  const url = await waitFor('the server to listen', () => {
    if (ended) throw new Error(`the server ended: ${child.out()}${child.err()}`);
    return /Cutover local API on (http:\/\/127\.0\.0\.1:\d+)/.exec(child.out())?.[1];
  });
  return { ...child, url };
}

/** One CodeDeploy JSON 1.1 call to a local server. */
export async function api<T = Record<string, unknown>>(
  url: string,
  operation: string,
  input: Record<string, unknown>,
): Promise<T> {
  const prefix = [
    'PromoteDeployment',
    'PauseDeployment',
    'ResumeDeployment',
    'ApproveDeployment',
    'GetDeploymentTimeline',
  ].includes(operation)
    ? 'Cutover_20261122'
    : 'CodeDeploy_20141006';
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${prefix}.${operation}` },
    body: JSON.stringify(input),
  });
  const body = (await r.json()) as T;
  if (!r.ok) throw new Error(`${operation}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}
