/** The errors the SimWorld throws where AWS would answer with an error. */

export type SimFaultKind = 'Throttling' | 'AccessDenied' | 'ServiceUnavailable';

/** An AWS error from the SimWorld: an injected fault, a missing resource or a refused request (`Invalid`). */
export class SimAwsError extends Error {
  constructor(
    readonly kind: SimFaultKind | 'ResourceNotFound' | 'Invalid',
    message: string,
    /** AWS's exception name, when it is not `<kind>Exception` (e.g. ServiceNotFoundException, ClientException). */
    name?: string,
  ) {
    super(message);
    this.name = name ?? (kind === 'ResourceNotFound' ? 'ResourceNotFoundException' : `${kind}Exception`);
  }
}
