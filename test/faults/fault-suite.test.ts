/**
 * The fault suite's slice (see slice.ts): 400 seeded runs on the in-memory store (contract-tested
 * against dynalite), the seeds that found each fix of issue #11, and a few runs on dynalite, the
 * real adapter, so the slice never drifts from it.
 */
import { faultSlice } from './slice.js';

/** Seeds whose runs broke an invariant before a fix (see the fixes' commit messages). */
const FOUND = [4, 102, 103, 107, 111, 118, 125, 126, 129, 133, 136, 1111, 1261, 2194, 2351, 11858, 22978];

faultSlice(
  'fault suite, in memory: seeds 1-400',
  Array.from({ length: 400 }, (_, i) => 1 + i),
  { store: 'memory', coverage: true },
);
faultSlice('fault suite, in memory: seeds that found a fix', FOUND, { store: 'memory' });
faultSlice(
  'fault suite, on dynalite: seeds 401-416',
  Array.from({ length: 16 }, (_, i) => 401 + i),
  { store: 'dynalite' },
);
