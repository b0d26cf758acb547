const jestJupyterLab = require('@jupyterlab/testing/lib/jest-config');

const base = jestJupyterLab(__dirname);

module.exports = {
  ...base,
  // Tests live next to the code, as in jupyterlab-git.
  testRegex: 'src/__tests__/.*\\.spec\\.tsx?$',
  testPathIgnorePatterns: ['/lib/', '/lab-dist/', '/node_modules/'],
  reporters: ['default']
};
