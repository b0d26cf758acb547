/** `nbqueue notify`: your own mail and webhook notifications when your jobs end. */
import { Command, InvalidArgumentError } from 'commander';
import type { api } from '@nbqueue/common';
import { Client, resolveConnection } from './client';
import { print } from './format';

type View = api.NotificationsView;
type EndState = View['on'][number];

const END_STATES: readonly EndState[] = ['succeeded', 'failed', 'cancelled'];

const states = (v: string): EndState[] => {
  const names = v
    .split(',')
    .map(s => s.trim())
    .filter(Boolean);
  const wrong = names.filter(n => !END_STATES.includes(n as EndState));
  if (!names.length || wrong.length)
    throw new InvalidArgumentError(
      `"${v}" must list end states separated by commas: ${END_STATES.join(', ')}`
    );
  return [...new Set(names)] as EndState[];
};

export function notificationsText(view: View): string {
  if (!view.email && !view.webhook)
    return [
      'Notifications are off.',
      `Turn them on with nbqueue notify ${view.email_available ? '--email ADDRESS and/or ' : ''}--webhook URL [--on failed,succeeded].`,
      view.webhook_hosts.length
        ? `Webhooks may go to: ${view.webhook_hosts.join(', ')}.`
        : 'This sidecar allows no webhook hosts.',
      view.email_available ? '' : 'This sidecar cannot send mail.'
    ]
      .filter(Boolean)
      .join('\n');
  return [
    `Email:   ${view.email ?? '(none)'}`,
    `Webhook: ${view.webhook ?? '(none)'}`,
    `On:      ${view.on.join(', ')}`
  ].join('\n');
}

export function addNotifyCommands(program: Command): void {
  program
    .command('notify')
    .description(
      'Show or set your notifications when your jobs end: mail and/or a Slack or Teams webhook'
    )
    .option('--email <address>', 'mail to this address ("" for no mail)')
    .option('--webhook <url>', 'POST to this incoming webhook ("" for none)')
    .option(
      '--on <states>',
      'the end states to be told about, e.g. failed,succeeded (default: all three)',
      states
    )
    .option('--off', 'turn notifications off')
    .option('--json', 'JSON output')
    .action(async opts => {
      const client = new Client(resolveConnection());
      let view: View;
      if (opts.off) {
        view = await client.call('delete', '/api/notifications');
      } else if (
        opts.email === undefined &&
        opts.webhook === undefined &&
        opts.on === undefined
      ) {
        view = await client.call('get', '/api/notifications');
      } else {
        // What is not given stays as it was.
        const now = await client.call('get', '/api/notifications');
        const value = (given: string | undefined, was: string | null) =>
          given === undefined ? was : given || null;
        view = await client.call('put', '/api/notifications', {
          body: {
            email: value(opts.email, now.email),
            webhook: value(opts.webhook, now.webhook),
            on: opts.on ?? now.on
          }
        });
      }
      print(opts.json, view, () => notificationsText(view));
    });
}
