/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // The Kubernetes suite needs a control plane: its own config (test/k8s/jest.config.js);
  // the hub suite a real JupyterHub and the built sidecar (test/hub/jest.config.js).
  testPathIgnorePatterns: [
    '/node_modules/',
    '<rootDir>/test/k8s/',
    '<rootDir>/test/hub/'
  ],
  testTimeout: 60000,
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
