const { execFileSync } = require('child_process');
const path = require('path');

/** Stops the control plane if this run started it. */
module.exports = async function globalTeardown() {
  const dir = process.env.NBQUEUE_K8S_STARTED;
  if (!dir) return;
  execFileSync(
    path.resolve(__dirname, '../../../k8s/controlplane/stop.sh'),
    [dir],
    {
      stdio: 'inherit'
    }
  );
};
