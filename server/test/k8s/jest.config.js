/**
 * The Kubernetes suite: against a real control plane (k8s/controlplane/start.sh), so a project
 * of its own: `npx jest -c test/k8s/jest.config.js` from server/. One file at a time: the
 * tests share the cluster's node pool.
 */
/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  rootDir: '../..',
  roots: ['<rootDir>/test/k8s'],
  testMatch: ['**/*.test.ts'],
  maxWorkers: 1,
  testTimeout: 240000,
  globalSetup: '<rootDir>/test/k8s/global-setup.js',
  globalTeardown: '<rootDir>/test/k8s/global-teardown.js',
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        tsconfig: { types: ['node', 'jest'] },
        diagnostics: { warnOnly: false }
      }
    ]
  }
};
