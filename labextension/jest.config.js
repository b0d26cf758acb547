const jestJupyterLab = require('@jupyterlab/testing/lib/jest-config');

// ESM-only packages jest must transpile (as in the JupyterLab extension template).
const esModules = [
  '@codemirror',
  '@jupyter/ydoc',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@microsoft',
  '@jupyterlab/',
  'exenv-es6',
  'lib0',
  'marked',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const base = jestJupyterLab(__dirname);

module.exports = {
  ...base,
  transform: {
    ...base.transform,
    // Inline options: the dependencies sit in the workspace root's
    // node_modules, outside this package's babel root.
    '^.+\\.jsx?$': [
      'babel-jest',
      { presets: [['@babel/preset-env', { targets: { node: 'current' } }]] }
    ]
  },
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`],
  // Tests live next to the code, as in jupyterlab-git.
  testRegex: 'src/__tests__/.*\\.spec\\.tsx?$',
  testPathIgnorePatterns: ['/lib/', '/lab-dist/', '/node_modules/'],
  setupFilesAfterEnv: ['<rootDir>/src/__tests__/setup.ts'],
  reporters: ['default']
};
