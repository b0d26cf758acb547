/**
 * A user's own notifications when their jobs end (server/src/notifications): an email address,
 * a webhook (Slack or Teams incoming webhook) and the end states to be told about. What a body
 * may hold depends on the operator: email only with notifications.smtp, webhooks only to the
 * hosts notifications.allowed_webhook_hosts lists (the document's pattern says which).
 */
import { z } from 'zod/v4';
import type { Config } from '../../config/schema';
import {
  hostRules,
  webhookPattern,
  webhookRefusal
} from '../../notifications/hosts';
import { documented, operation, refuse } from './operation';

/** Whatever this sidecar's settings, clients may send a string or null (document.ts). */
const anySidecar = <T extends z.ZodType>(schema: T): T =>
  documented(schema, { extra: { 'x-types': { type: ['string', 'null'] } } });

const END_STATES = ['succeeded', 'failed', 'cancelled'] as const;

const onStates = z
  .array(
    z.enum(
      END_STATES,
      refuse(
        'invalid_request',
        '"on" lists end states: succeeded, failed, cancelled.'
      )
    ),
    refuse(
      'invalid_request',
      '"on" must be a list of end states: succeeded, failed, cancelled.'
    )
  )
  .min(
    1,
    refuse(
      'invalid_request',
      '"on" must name at least one end state (succeeded, failed, cancelled).'
    )
  )
  .max(
    3,
    refuse(
      'invalid_request',
      '"on" names each end state once at most: succeeded, failed, cancelled.'
    )
  )
  .describe('The end states to be told about');

function emailSchema(config: Config) {
  return anySidecar(emailOf(config));
}

function emailOf(config: Config) {
  if (!config.notifications.smtp)
    return z
      .null(
        refuse(
          'email_unavailable',
          'This sidecar cannot send mail: its operator has not set notifications.smtp. Leave "email" out, or use a webhook.'
        )
      )
      .describe('This sidecar sends no mail (notifications.smtp is not set)');
  return z
    .email(
      refuse(
        'invalid_email',
        input => `"${String(input).slice(0, 100)}" is not an email address.`
      )
    )
    .max(
      254,
      refuse('invalid_email', 'An email address has at most 254 characters.')
    )
    .nullable()
    .describe('Where mail about your jobs goes; null: no mail');
}

function webhookSchema(config: Config) {
  return anySidecar(webhookOf(config));
}

function webhookOf(config: Config) {
  const rules = hostRules(config.notifications.allowed_webhook_hosts);
  const pattern = webhookPattern(rules);
  if (!pattern)
    return z
      .null(refuse('webhook_not_allowed', webhookRefusal(rules, '') ?? ''))
      .describe(
        'This sidecar sends no webhooks (notifications.allowed_webhook_hosts is empty)'
      );
  return z
    .string(refuse('webhook_not_allowed', '"webhook" must be a URL.'))
    .max(
      2000,
      refuse(
        'webhook_not_allowed',
        'A webhook URL has at most 2000 characters.'
      )
    )
    .regex(
      new RegExp(pattern),
      refuse(
        'webhook_not_allowed',
        input => webhookRefusal(rules, String(input)) ?? ''
      )
    )
    .nullable()
    .describe(
      `A Slack or Teams incoming webhook, POSTed {"text": ...}; its host must be one of ${config.notifications.allowed_webhook_hosts.join(', ')} (https unless listed with http://). null: no webhook`
    );
}

export const NotificationsView = z.object({
  email: z.string().nullable(),
  webhook: z
    .string()
    .nullable()
    .describe('Yours only: the URL is a secret of its channel'),
  on: z.array(z.enum(END_STATES)),
  email_available: z
    .boolean()
    .describe('Whether this sidecar can send mail (notifications.smtp)'),
  webhook_hosts: z
    .array(z.string())
    .describe(
      'The hosts a webhook may name (notifications.allowed_webhook_hosts)'
    )
});

export function notificationOperations(config: Config) {
  return {
    NotificationsView,
    getNotifications: operation({
      method: 'get',
      path: '/api/notifications',
      operationId: 'getNotifications',
      summary:
        "The caller's own notification settings, and what this sidecar can send",
      ok: { 200: { schema: NotificationsView } },
      errors: [401, 503]
    }),
    setNotifications: operation({
      method: 'put',
      path: '/api/notifications',
      operationId: 'setNotifications',
      summary:
        "Sets the caller's own notifications: mail and/or a webhook when one of their jobs ends in a chosen state",
      description:
        'Replaces the settings; a field left out is none. Jobs that ended before this call are not notified. Neither email nor webhook: notifications are off. 400 webhook_not_allowed: a host the operator does not allow (or http where https is required); 400 email_unavailable: no mail server; 400 invalid_email.',
      body: z.object(
        {
          email: emailSchema(config).optional(),
          webhook: webhookSchema(config).optional(),
          on: onStates.optional()
        },
        refuse('invalid_request', 'The request body must be a JSON object.')
      ),
      ok: { 200: { schema: NotificationsView } },
      errors: [400, 401, 503]
    }),
    clearNotifications: operation({
      method: 'delete',
      path: '/api/notifications',
      operationId: 'clearNotifications',
      summary:
        "Turns the caller's notifications off (and drops those not sent yet)",
      ok: { 200: { schema: NotificationsView } },
      errors: [401, 503]
    })
  };
}
