/**
 * The local API server refuses a body larger than the limit at once: on the declared Content-Length
 * before reading any of it, or (chunked) as soon as the bytes received pass the limit; then it closes.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES } from '../../src/api/json-protocol.js';
import { startApiServer, type ApiServer } from '../../src/local/server.js';
import { testEnv, type TestEnv } from '../support/local.js';

let env: TestEnv;
let server: ApiServer;
beforeAll(async () => {
  env = await testEnv();
  server = await startApiServer(env.deps, { work: env.clock, viewFor: env.viewFor });
});
afterAll(async () => {
  await server.close();
  await env.close();
});

/** A raw connection to the server: what it answered, and whether it closed. */
function open(): Promise<{ socket: Socket; answer: Promise<{ text: string; closed: boolean }> }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
      // Writes the server no longer reads may fail once it closes: that is the point.
      socket.on('error', () => {});
      const answer = new Promise<{ text: string; closed: boolean }>((done) =>
        socket.on('end', () => done({ text, closed: true })),
      );
      resolve({ socket, answer });
    });
    socket.once('error', reject);
  });
}

const head = (extra: string) =>
  // The server's own host and port: any other Host is refused before size is looked at (DNS rebinding).
  `POST / HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\nContent-Type: application/x-amz-json-1.1\r\n` +
  `X-Amz-Target: CodeDeploy_20141006.ListApplications\r\n${extra}\r\n`;

describe('request size limit', () => {
  it('a declared Content-Length of 100 MB is refused with 413 before the body arrives, and the connection closes', async () => {
    const { socket, answer } = await open();
    // The headers and the first bytes of a slow body; the rest never comes. A server that read the body
    // before answering would never answer (and the test would time out).
    socket.write(head(`Content-Length: ${100 * 1024 * 1024}\r\n`));
    socket.write('{"next');
    const { text, closed } = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toMatch(/connection: close/i);
    expect(text).toContain('RequestEntityTooLargeException');
    expect(closed).toBe(true);
    socket.destroy();
  });

  it('a chunked body is refused as soon as the bytes received pass the limit', async () => {
    const { socket, answer } = await open();
    socket.write(head('Transfer-Encoding: chunked\r\n'));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    // Just past the limit, and the body never ends (no last chunk): only a server that counts what it
    // receives answers.
    for (let sent = 0; sent <= MAX_REQUEST_BYTES; sent += chunk.length)
      socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n`);
    const { text, closed } = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(closed).toBe(true);
    socket.destroy();
  });

  it('a body within the limit is served as before', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'CodeDeploy_20141006.ListApplications',
      },
      body: JSON.stringify({ nextToken: undefined }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ applications: ['shop'] });
  });
});
