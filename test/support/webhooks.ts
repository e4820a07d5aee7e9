/** A webhook receiver on loopback for tests: it trusts only bodies signed with the secret it holds now. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyCutoverSignature } from '../../examples/hooks/verify-webhook.mjs';

export interface WebhookReceiver {
  /** Its URL (`http://127.0.0.1:<port><path>`). */
  url: string;
  /** The secret it checks signatures with from now on. */
  trust(secret: string): void;
  /** The parsed bodies it accepted, in order, with the secret that signed each. */
  accepted: { body: unknown; secret: string }[];
  close(): Promise<void>;
}

/**
 * Answers a correctly signed request with `{"status":"Succeeded"}` (200), anything else with 401 and
 * `{"message":"bad signature"}` (a body Cutover must never copy into its records).
 */
export async function webhookReceiver(secret = '', path = '/hooks/pre-traffic'): Promise<WebhookReceiver> {
  let trusted = secret;
  const accepted: WebhookReceiver['accepted'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const header = req.headers['x-cutover-signature'];
      if (!verifyCutoverSignature(trusted, typeof header === 'string' ? header : undefined, body).ok) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"bad signature"}');
        return;
      }
      accepted.push({ body: JSON.parse(body), secret: trusted });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'Succeeded' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    trust: (s) => (trusted = s),
    accepted,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
