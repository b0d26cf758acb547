import { Command } from 'commander';
import { VERSION } from '../version';
import { addAdminCommands } from './adminCommands';
import { CliError } from './client';
import { addJobCommands } from './jobCommands';
import { addNotifyCommands } from './notifyCommands';
import { addOutputCommands } from './outputCommands';
import { addPipelineCommands } from './pipelineCommands';
import { addScheduleCommands } from './scheduleCommands';
import { addServe } from './serve';

export { follow } from './follow';

export function buildProgram(): Command {
  const program = new Command('nbqueue')
    .version(VERSION)
    .description(
      'Queue notebooks as jobs on GPUs and stream their outputs back.'
    );
  program.showHelpAfterError();
  addServe(program);
  addJobCommands(program);
  addOutputCommands(program);
  addPipelineCommands(program);
  addScheduleCommands(program);
  addAdminCommands(program);
  addNotifyCommands(program);
  return program;
}
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`nbqueue: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}
