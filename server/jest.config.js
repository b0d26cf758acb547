/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
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
