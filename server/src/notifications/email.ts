/** Mail through the operator's SMTP server (notifications.smtp), with nodemailer. */
import * as fs from 'fs';
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { ConfigError } from '../config/load';
import type { SmtpSettings } from './config';
import { DeliveryError } from './delivery';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export type Mailer = (mail: Mail) => Promise<void>;

/**
 * A mailer for these settings; the password is read now, from the environment variable or file
 * the settings name, so a missing one stops the start naming the field.
 */
export function smtpMailer(
  smtp: SmtpSettings,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env
): Mailer {
  let pass: string | undefined;
  if (smtp.password_env) {
    pass = env[smtp.password_env];
    if (pass === undefined)
      throw new ConfigError(
        `notifications.smtp.password_env: the environment variable ${smtp.password_env} is not set; set it to the SMTP password of ${smtp.user}`
      );
  } else if (smtp.password_file) {
    try {
      pass = fs.readFileSync(smtp.password_file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        `notifications.smtp.password_file: cannot read ${smtp.password_file}: ${(err as Error).message}`
      );
    }
  }
  const transport: Transporter = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: !smtp.secure && smtp.require_tls,
    auth: smtp.user ? { user: smtp.user, pass } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs
  });
  return async mail => {
    try {
      await transport.sendMail({
        from: smtp.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text
      });
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      // 5xx from the server is a refusal for good (an unknown recipient); the rest may pass.
      throw new DeliveryError(
        `the mail server ${smtp.host} did not take the mail: ${(err as Error).message}`,
        code !== undefined && code >= 500
      );
    }
  };
}
