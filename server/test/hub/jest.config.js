/**
 * The hub suite: nbqueue as a service of a real JupyterHub (hubHarness.ts), so a project of
 * its own: `npx jest -c test/hub/jest.config.js` from server/, after `npm run build -w server`
 * (the hub starts the built CLI). One file at a time: the tests share fixed ports.
 */
/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  rootDir: '../..',
  roots: ['<rootDir>/test/hub'],
  testMatch: ['**/*.test.ts'],
  maxWorkers: 1,
  testTimeout: 180000,
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
