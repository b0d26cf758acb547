/**
 * What every nbqueue Playwright configuration shares: Debian's Chromium
 * (Playwright cannot download its own here), its flags, and the screenshot,
 * trace and viewport settings of the tests.
 */
module.exports = {
  viewport: { width: 1280, height: 1024 },
  screenshot: 'on',
  trace: 'retain-on-failure',
  video: 'off',
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync'
    ]
  }
};
