/**
 * Galata (Playwright) configuration for the nbqueue end-to-end tests.
 *
 * The webServer is `start-servers.sh`: a real nbqueue sidecar (local backend)
 * and a real JupyterLab with the built labextension, on a fresh copy of
 * `examples/`. The browser is Debian's Chromium, because Playwright cannot
 * download its own here.
 */
const browser = require('./browser');
const fs = require('fs');
const os = require('os');
const path = require('path');
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

// One scratch folder per `playwright test` run, shared by the webServer (which
// writes the sidecar's state file there) and the workers (which read the token
// from it). Workers inherit the environment of the process that loaded this
// file first, so `??=` keeps them all on the same folder.
process.env.NBQUEUE_UI_TESTS_TMP ??= fs.mkdtempSync(
  path.join(os.tmpdir(), 'nbqueue-ui-tests-')
);
// Always the test sidecar's own state file, never one from the environment
// (that would be the person's real sidecar).
process.env.NBQUEUE_STATE_FILE = path.join(
  process.env.NBQUEUE_UI_TESTS_TMP,
  'server.json'
);
const port = Number(process.env.NBQUEUE_UI_TESTS_PORT ?? 8888);
process.env.NBQUEUE_UI_TESTS_PORT = String(port);

module.exports = {
  ...baseConfig,
  testDir: './tests',
  outputDir: 'test-results',
  retries: 0,
  workers: 1,
  timeout: 180 * 1000,
  expect: { timeout: 30 * 1000 },
  reporter: [['list'], ['json', { outputFile: 'test-results/results.json' }]],
  use: {
    ...baseConfig.use,
    baseURL: `http://localhost:${port}`,
    // Debian's Chromium; room for the dialog and a few cells' outputs.
    ...browser
  },
  webServer: {
    command: './start-servers.sh',
    url: `http://localhost:${port}/lab`,
    timeout: 120 * 1000,
    // A server left on the port by someone else would test the wrong thing.
    reuseExistingServer: false,
    // The servers log to files in NBQUEUE_UI_TESTS_TMP (run.sh keeps them
    // with the results); only start-servers.sh's own messages come here.
    stdout: 'pipe',
    stderr: 'pipe',
    // SIGTERM first so JupyterLab stops its kernels and the sidecar its jobs.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10 * 1000 }
  }
};
