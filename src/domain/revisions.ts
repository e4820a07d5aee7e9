/** Revision identity, as CodeDeploy keys a registered revision. Pure. */
import type { RevisionLocation } from './model.js';

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
