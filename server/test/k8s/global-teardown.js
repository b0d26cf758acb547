const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

/**
 * Stops the control plane if this run started it, and removes its folder (etcd data and logs,
 * 100 MB or so) unless NBQUEUE_K8S_KEEP is set.
 */
module.exports = async function globalTeardown() {
  const dir = process.env.NBQUEUE_K8S_STARTED;
  if (!dir) return;
  execFileSync(
    path.resolve(__dirname, '../../../k8s/controlplane/stop.sh'),
    [dir],
    { stdio: 'inherit' }
  );
  if (!process.env.NBQUEUE_K8S_KEEP)
    fs.rmSync(dir, { recursive: true, force: true });
};
