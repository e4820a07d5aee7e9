import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./test/support/setup.ts'],
    // Guards against a hang only: time in tests is virtual, and a loaded machine makes a test slower,
    // never different. A tight wall-clock limit failed healthy tests on a busy machine.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
