#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/ (npm run build -w server).
require('../dist/cli/main.js')
  .main(process.argv)
  .catch(err => {
    process.stderr.write(
      `nbqueue: ${err && err.message ? err.message : err}\n`
    );
    process.exit(1);
  });
