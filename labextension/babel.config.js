// Transpiles the ESM-only dependencies (yjs, lib0, ...) that jest loads from node_modules.
module.exports = require('@jupyterlab/testing/lib/babel-config').default;
