/**
 * One webhook POST, guarded against reaching what it should not: the URL's host must still be
 * allowed, every address it resolves to must be public unless the operator listed that exact
 * host, the connection goes to the address that was checked (no second lookup to rebind), and
 * redirects are not followed.
 */
import { promises as dns } from 'dns';
import * as http from 'http';
import * as https from 'https';
import type { LookupFunction } from 'net';
import { DeliveryError } from './delivery';
import { HostRule, isInternalAddress, ruleFor, webhookRefusal } from './hosts';

export interface WebhookOptions {
  rules: readonly HostRule[];
  timeoutMs: number;
  /** Resolves a host name (tests may give their own); dns.lookup by default. */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}

/** Slack's and Teams' incoming webhooks both take `{"text": ...}`. */
export async function postWebhook(
  url: string,
  body: { text: string },
  options: WebhookOptions
): Promise<void> {
  const refusal = webhookRefusal(options.rules, url);
  if (refusal) throw new DeliveryError(refusal, true);
  const target = new URL(url);
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const rule = ruleFor(options.rules, target.hostname) as HostRule;
  const resolve =
    options.resolve ?? (h => dns.lookup(h, { all: true, verbatim: true }));
  let addresses: { address: string; family: number }[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    throw new DeliveryError(
      `cannot resolve ${target.hostname}: ${(err as Error).message}`,
      false
    );
  }
  // Only a host the operator named exactly may be internal (a test receiver, an in-house
  // chat server): a wildcard could be pointed anywhere by whoever controls its DNS.
  const internal = addresses.find(a => isInternalAddress(a.address));
  if (!addresses.length || (internal && rule.wildcard))
    throw new DeliveryError(
      `${target.hostname} resolves to ${internal?.address ?? 'no address'}, an internal address webhooks may not reach; an operator may allow it by listing that exact host in notifications.allowed_webhook_hosts`,
      true
    );
  const chosen = addresses[0];
  const lookup: LookupFunction = (_name, opts, callback) => {
    if ((opts as { all?: boolean }).all)
      (callback as unknown as (e: null, a: typeof addresses) => void)(null, [
        chosen
      ]);
    else callback(null, chosen.address, chosen.family);
  };
  const data = Buffer.from(JSON.stringify(body));
  const client = target.protocol === 'https:' ? https : http;
  await new Promise<void>((done, fail) => {
    const req = client.request(
      target,
      {
        method: 'POST',
        lookup,
        timeout: options.timeoutMs,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': String(data.length),
          'User-Agent': 'nbqueue'
        }
      },
      res => {
        res.resume(); // the answer's body is not needed
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return done();
        if (status >= 300 && status < 400)
          return fail(
            new DeliveryError(
              `the webhook answered ${status} (a redirect${res.headers.location ? ` to ${new URL(res.headers.location, target).host}` : ''}), which nbqueue does not follow; set the URL it ends at`,
              true
            )
          );
        // Worth another try: the receiver is busy or down. Anything else will not change.
        const transient = status === 408 || status === 429 || status >= 500;
        fail(new DeliveryError(`the webhook answered ${status}`, !transient));
      }
    );
    const timer = setTimeout(
      () => req.destroy(new Error('timed out')),
      options.timeoutMs
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('close', () => clearTimeout(timer));
    req.on('error', err =>
      fail(new DeliveryError(`cannot post to ${target.host}: ${err.message}`))
    );
    req.end(data);
  });
}
