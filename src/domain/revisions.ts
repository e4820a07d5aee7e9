/** Revision identity, as CodeDeploy keys a registered revision. Pure. */
import { createHash } from 'node:crypto';
import type { RevisionLocation } from './model.js';

/** Hex SHA-256 of a revision's raw content (CodeDeploy's `sha256`). */
export const sha256Hex = (content: string): string => createHash('sha256').update(content, 'utf8').digest('hex');

export function revisionKey(r: RevisionLocation): string {
  switch (r.revisionType) {
    case 'AppSpecContent':
      return `sha256:${r.appSpecContent.sha256}`;
    case 'String':
      return `sha256:${r.string.sha256}`;
    case 'S3':
      return `s3://${r.s3Location.bucket}/${r.s3Location.key}${r.s3Location.version ? `?versionId=${r.s3Location.version}` : ''}`;
  }
}

/** `s` without leading and trailing slashes (a loop: /\/+$/ rescans a run of slashes from every start). */
function trimSlashes(s: string): string {
  let from = 0;
  let to = s.length;
  while (from < to && s[from] === '/') from++;
  while (to > from && s[to - 1] === '/') to--;
  return s.slice(from, to);
}

/**
 * Where an uploaded revision goes: `<prefix>/<application>/<deploymentGroup>/<anything>`.
 * Undefined when the key is outside the prefix or too short.
 */
export function revisionTarget(
  key: string,
  prefix: string,
): { applicationName: string; deploymentGroupName: string } | undefined {
  const p = trimSlashes(prefix);
  const parts = key.split('/');
  const head = p ? p.split('/') : [];
  if (head.some((h, i) => parts[i] !== h)) return undefined;
  const [applicationName, deploymentGroupName, ...rest] = parts.slice(head.length);
  if (!applicationName || !deploymentGroupName || rest.length === 0 || rest.join('/') === '') return undefined;
  return { applicationName, deploymentGroupName };
}
