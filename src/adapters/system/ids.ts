/** New identifiers from the system's cryptographic random source. */
import { randomBytes, randomUUID } from 'node:crypto';
import { deploymentIdOf } from '../../domain/ids.js';
import type { IdSource } from '../../ports/index.js';

export class RandomIds implements IdSource {
  deploymentId(): string {
    return deploymentIdOf(randomBytes(9));
  }
  /** 256 bits, URL-safe: hook execution ids are capabilities (they authorise a callback). */
  hookExecutionId(): string {
    return randomBytes(32).toString('base64url');
  }
  uuid(): string {
    return randomUUID();
  }
}
