/**
 * Playwright configuration for the single-user image's smoke test: `run.sh` starts the image's
 * JupyterLab in a container and passes its URL and token; the browser is Debian's Chromium with
 * the settings every nbqueue browser test shares. Plain Playwright: the server is not Galata's.
 */
const browser = require('../browser');

module.exports = {
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: '../test-results/image',
  retries: 0,
  workers: 1,
  timeout: 120 * 1000,
  expect: { timeout: 30 * 1000 },
  reporter: [
    ['list'],
    ['json', { outputFile: '../test-results/image/results.json' }]
  ],
  use: {
    baseURL: process.env.NBQUEUE_IMAGE_URL,
    ...browser
  }
};
