/**
 * The metrics rendering benchmark (`render.spec.ts`): the Galata setup of the
 * end-to-end tests (same servers, same Chromium), its own folder of specs.
 *
 *   cd ui-tests && npx playwright test -c bench/playwright.config.js
 */
const path = require('path');
const base = require('../playwright.config.js');

module.exports = {
  ...base,
  testDir: __dirname,
  outputDir: path.resolve(__dirname, '../test-results/bench'),
  reporter: [['list']],
  timeout: 300 * 1000,
  use: { ...base.use, screenshot: 'off', trace: 'off' },
  webServer: { ...base.webServer, cwd: path.resolve(__dirname, '..') }
};
