import type { Command } from 'commander';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FINAL_STATES } from '../api/contract/states';
import { extractArchive } from '../files/extract';
import { filesText } from '../files/listing';
import { saveCheckpoint } from './checkpoint';
import { CliError, Client, resolveConnection } from './client';
import { print } from './format';

/** What a job leaves: its runner's log, its executed notebook, its files. */
export function addOutputCommands(program: Command): void {
  program
    .command('logs <id>')
    .description("Print the runner's log of a job")
    .option('--follow', 'keep printing until the job ends')
    .action(async (id: string, opts) => {
      const client = new Client(resolveConnection());
      let shown = 0;
      for (;;) {
        const job = await client.call('get', '/api/jobs/{id}', { id });
        let text = '';
        try {
          text = await client.text(`/api/jobs/${encodeURIComponent(id)}/log`);
        } catch (e) {
          // Following a job whose runner has not written its log yet: wait for it.
          if (!opts.follow || FINAL_STATES.has(job.state)) throw e;
        }
        if (text.length > shown) process.stdout.write(text.slice(shown));
        shown = Math.max(shown, text.length);
        if (!opts.follow || FINAL_STATES.has(job.state)) break;
        await new Promise(r => setTimeout(r, 1000));
      }
    });

  program
    .command('cancel <id>')
    .description('Cancel a queued or running job')
    .option('--json', 'JSON output')
    .action(async (id: string, opts) => {
      const job = await new Client(resolveConnection()).call(
        'post',
        '/api/jobs/{id}/cancel',
        { id }
      );
      print(opts.json, job, () =>
        job.state === 'cancelled'
          ? `${id} cancelled`
          : `${id}: cancel requested (${job.state})`
      );
    });

  program
    .command('result <id>')
    .description('Save the executed notebook of a finished job')
    .requiredOption('-o, --output <file>', 'where to write the notebook')
    .action(async (id: string, opts) => {
      // Streamed to the file as it arrives: a result may be far larger than memory allows.
      await new Client(resolveConnection()).download(
        `/api/jobs/${encodeURIComponent(id)}/result`,
        opts.output
      );
      process.stdout.write(`wrote ${opts.output}\n`);
    });

  program
    .command('files <id>')
    .description(
      'List the files a job wrote, or save them into a directory with -o'
    )
    .option('-o, --output <dir>', 'save the files into this directory')
    .option(
      '--checkpoint <n>',
      'with -o: save checkpoint n (or "latest") instead of the output files'
    )
    .option('--json', 'JSON output')
    .action(async (id: string, opts) => {
      const client = new Client(resolveConnection());
      const job = `/api/jobs/${encodeURIComponent(id)}/files`;
      const listing = await client.call('get', '/api/jobs/{id}/files', { id });
      const output = listing.output;
      if (!opts.output) {
        if (opts.checkpoint)
          throw new CliError('Say where to save it: --checkpoint N -o DIR.');
        print(opts.json, listing, () =>
          filesText(id, output, listing.checkpoints)
        );
        return;
      }
      if (opts.checkpoint) {
        const written = await saveCheckpoint(
          client,
          id,
          listing.checkpoints,
          String(opts.checkpoint),
          opts.output
        );
        print(
          opts.json,
          { dir: path.resolve(opts.output), files: written },
          () =>
            written
              .map(f => `wrote ${path.join(opts.output, f.path)}`)
              .join('\n')
        );
        return;
      }
      if (!output)
        throw new CliError(
          `Job ${id} brought back no files (yet): it wrote none, or has not ended.`
        );
      const archive = path.join(
        fs.mkdtempSync(path.join(os.tmpdir(), 'nbqueue-files-')),
        'files.tar.gz'
      );
      try {
        await client.download(`${job}/output`, archive);
        const written = await extractArchive(archive, opts.output);
        print(
          opts.json,
          { dir: path.resolve(opts.output), files: written },
          () =>
            written
              .map(f => `wrote ${path.join(opts.output, f.path)}`)
              .concat(
                output.left_out.map(f => `left out ${f.path}: ${f.reason}`)
              )
              .join('\n')
        );
      } finally {
        fs.rmSync(path.dirname(archive), { recursive: true, force: true });
      }
    });
}
