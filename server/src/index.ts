export { startSidecar } from './server';
export type { Sidecar, SidecarOptions } from './server';
export { parseConfig, loadConfigFile, ConfigError } from './config/load';
export { decideAdmissions, queuePositions } from './queue/scheduler';
