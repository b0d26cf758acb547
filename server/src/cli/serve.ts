import type { Command } from 'commander';
import * as path from 'path';
import { checkRunnerPython } from '../backends/preflight';
import { ConfigError, loadConfigFile } from '../config/load';
import { armFaults } from '../faults';
import { startSidecar } from '../server';
import { clearState, defaultStateFile, writeState } from '../statefile';
import { VERSION } from '../version';

/** `nbqueue serve`: the sidecar itself. */
export function addServe(program: Command): void {
  program
    .command('serve')
    .description(
      'Start the sidecar (REST + socket.io) with the configured backend'
    )
    .option(
      '-c, --config <file>',
      'configuration file (YAML or JSON); built-in defaults when absent',
      process.env.NBQUEUE_CONFIG
    )
    .option('--host <host>', 'interface to listen on (overrides server.host)')
    .option(
      '--port <port>',
      'port (overrides server.port; 0 picks a free one)',
      v => Number(v)
    )
    .option('--db <file>', 'SQLite file (overrides store.path)')
    .option(
      '--state-file <file>',
      'where to write {url, token, pid} for the CLI and JupyterLab',
      defaultStateFile()
    )
    .action(async opts => {
      try {
        const armed = armFaults(process.env.NBQUEUE_FAULTS);
        if (armed.length)
          process.stderr.write(
            `nbqueue: WARNING: NBQUEUE_FAULTS is set (for tests only): this sidecar kills itself at ${armed.join(', ')}.\n`
          );
      } catch (e) {
        process.stderr.write(
          `nbqueue: not starting: ${(e as Error).message}\n`
        );
        process.exit(2);
      }
      let config;
      try {
        config = loadConfigFile(opts.config);
      } catch (e) {
        if (e instanceof ConfigError) {
          process.stderr.write(e.message + '\n');
          process.exit(2);
        }
        throw e;
      }
      if (opts.host) config.server.host = opts.host;
      if (opts.port !== undefined) config.server.port = opts.port;
      if (config.backend.type === 'local') {
        const check = await checkRunnerPython(config.backend.local.python);
        if (!check.ok) {
          // Restore mode starts every runner on it; kernel mode only the jobs that do not say
          // which kernel Python they came from (CLI submits), so those fail, each saying why.
          if (config.backend.local.environment === 'restore') {
            process.stderr.write(
              `nbqueue: not starting: ${check.message} In restore mode every job's runner starts on it.\n`
            );
            process.exit(2);
          }
          process.stderr.write(
            `nbqueue: WARNING: ${check.message} Jobs that do not name their kernel's Python (nbqueue submit) will fail until then; jobs from JupyterLab run on their kernel's own Python.\n`
          );
        }
      }
      let sidecar;
      try {
        sidecar = await startSidecar({ config, dbPath: opts.db });
      } catch (e) {
        // A setting that cannot work here (e.g. several users without their own accounts).
        if (e instanceof ConfigError) {
          process.stderr.write(e.message + '\n');
          process.exit(2);
        }
        throw e;
      }
      const stateFile = path.resolve(opts.stateFile);
      writeState(stateFile, {
        url: sidecar.url,
        token: sidecar.token,
        pid: process.pid
      });
      process.stdout.write(
        `nbqueue ${VERSION} serving at ${sidecar.url} (backend: ${config.backend.type})\nstate file: ${stateFile}\n`
      );
      const stop = async () => {
        clearState(stateFile);
        await sidecar.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop());
      process.on('SIGTERM', () => void stop());
    });
}
