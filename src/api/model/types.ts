/** The reduced shape of a service model (see scripts/codedeploy-model.ts). */
export interface ModelShape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'boolean' | 'timestamp' | 'blob' | 'double';
  /** structure: member name → shape name */
  members?: Record<string, string>;
  required?: string[];
  /** list: the member's shape; map: key and value shapes */
  member?: string;
  key?: string;
  value?: string;
  /** string: length; list and map: entries; integer: value */
  min?: number;
  max?: number;
  enum?: string[];
  pattern?: string;
}

export interface ModelOperation {
  input?: string;
  /** The exceptions the operation may return (shape names, which are the error codes). */
  errors: string[];
  deprecated?: boolean;
}

export interface ServiceModel {
  targetPrefix: string;
  operations: Record<string, ModelOperation>;
  shapes: Record<string, ModelShape>;
}
