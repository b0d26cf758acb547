/**
 * The operator's `notifications.*` settings (docs/configuration.md): the SMTP server mail goes
 * through, the hosts webhooks may reach, and how deliveries are retried.
 */
import { z } from 'zod';

/** `hooks.slack.com`, `*.webhook.office.com`, `127.0.0.1`, `[::1]`; `http://` allows http too. */
export const HOST_ENTRY =
  /^(http:\/\/)?(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])$/;

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

export const smtpSchema = z
  .object({
    host: z.string().min(1),
    /** 587 (submission, STARTTLS) unless said; 465 with `secure`. */
    port: z.number().int().min(1).max(65535).default(587),
    /** TLS from the first byte (port 465); false: plain, upgraded with STARTTLS. */
    secure: z.boolean().default(false),
    /** Without `secure`: refuse to send unless the server offers STARTTLS. */
    require_tls: z.boolean().default(true),
    /** The account mail is sent as; its password from `password_env` or `password_file`. */
    user: z.string().min(1).optional(),
    password_env: envName.optional(),
    password_file: z.string().min(1).optional(),
    /** The From address, e.g. "nbqueue <nbqueue@example.com>". */
    from: z.string().min(3)
  })
  .strict()
  .refine(s => !(s.password_env && s.password_file), {
    message: 'give password_env or password_file, not both',
    path: ['password_file']
  })
  .refine(s => !(s.password_env || s.password_file) || s.user, {
    message: 'a password needs the user it belongs to',
    path: ['user']
  });

export const notificationsSchema = z
  .object({
    /** Mail: without it users cannot choose email. */
    smtp: smtpSchema.optional(),
    /** Hosts a user's webhook may name: exact, or `*.suffix`; `http://` before one allows http. */
    allowed_webhook_hosts: z
      .array(
        z
          .string()
          .regex(
            HOST_ENTRY,
            'must be a lowercase host name, IP address or "*.suffix", with "http://" before it to allow http'
          )
      )
      .default([]),
    /** Links in notifications start here: `<base>/api/jobs/<id>/result`. */
    link_base_url: z.string().url().optional(),
    /** Attempts per notification, the first included. */
    max_attempts: z.number().int().min(1).max(20).default(5),
    /** Seconds before the second attempt, doubled for each later one (at most an hour). */
    retry_seconds: z.number().positive().max(3600).default(30),
    /** Seconds one attempt may take (connect, send, answer). */
    timeout_seconds: z.number().positive().max(300).default(10),
    /** Notifications being sent at once. */
    concurrency: z.number().int().min(1).max(64).default(4)
  })
  .strict()
  .default({});

export type NotificationSettings = z.infer<typeof notificationsSchema>;
export type SmtpSettings = z.infer<typeof smtpSchema>;
