/**
 * Playwright configuration for the Binder smoke test: JupyterLab is already
 * running, started by binder/test-binder.sh through binder/start in a fresh
 * virtualenv (NBQUEUE_BINDER_URL, NBQUEUE_BINDER_TOKEN), so no webServer here.
 */
const browser = require('../browser');
module.exports = {
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: '../test-results/binder',
  retries: 0,
  workers: 1,
  timeout: 240 * 1000,
  expect: { timeout: 30 * 1000 },
  reporter: [
    ['list'],
    ['json', { outputFile: '../test-results/binder/results.json' }]
  ],
  use: {
    baseURL: process.env.NBQUEUE_BINDER_URL ?? 'http://127.0.0.1:8893',
    ...browser
  }
};
