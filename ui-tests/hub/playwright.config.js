/**
 * Playwright configuration for nbqueue under JupyterHub: the webServer is
 * `start-hub.sh` (a real hub, its proxy, the nbqueue service, and single-user
 * JupyterLab servers it spawns); the browser logs in through the hub's login
 * page. Plain Playwright: Galata's fixtures expect a JupyterLab at the base
 * URL, while here the hub is.
 */
const browser = require('../browser');
const fs = require('fs');
const os = require('os');
const path = require('path');

// One scratch folder per run, shared by the webServer and the workers.
process.env.NBQUEUE_HUB_TMP ??= fs.mkdtempSync(
  path.join(os.tmpdir(), 'nbqueue-hub-ui-')
);
process.env.NBQUEUE_HUB_PASSWORD ??= 'nbqueue-ui-password';
const port = Number(process.env.NBQUEUE_HUB_PORT ?? 18000);
process.env.NBQUEUE_HUB_PORT = String(port);

module.exports = {
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: '../test-results/hub',
  retries: 0,
  workers: 1,
  timeout: 300 * 1000,
  expect: { timeout: 30 * 1000 },
  reporter: [
    ['list'],
    ['json', { outputFile: '../test-results/hub/results.json' }]
  ],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    ...browser
  },
  webServer: {
    command: './start-hub.sh',
    cwd: __dirname,
    // Up when the hub's proxy routes to the nbqueue service.
    url: `http://127.0.0.1:${port}/services/nbqueue/api/health`,
    timeout: 120 * 1000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    // SIGTERM so the hub stops its proxy, service and single-user servers.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 20 * 1000 }
  }
};
