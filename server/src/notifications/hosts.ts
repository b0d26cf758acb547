/**
 * Which webhook URLs a user may set and which addresses a webhook may reach (pure: no I/O).
 * The operator lists hosts (`notifications.allowed_webhook_hosts`); a URL is checked against
 * them when a user sets it, and its host's addresses when it is sent (webhook.ts).
 */
import { BlockList, isIP } from 'net';

export interface HostRule {
  /** The host as listed, or the suffix after `*` (`.example.com`). */
  host: string;
  wildcard: boolean;
  /** Listed with `http://`: plain http is allowed too. */
  http: boolean;
}

export function hostRules(entries: readonly string[]): HostRule[] {
  return entries.map(entry => {
    const http = entry.startsWith('http://');
    const host = http ? entry.slice('http://'.length) : entry;
    return host.startsWith('*.')
      ? { host: host.slice(1), wildcard: true, http }
      : { host, wildcard: false, http };
  });
}

/** The rule that lets `hostname` (as URL gives it: lowercase, IPv6 in brackets) in, if any. */
export function ruleFor(
  rules: readonly HostRule[],
  hostname: string
): HostRule | undefined {
  return (
    rules.find(r => !r.wildcard && r.host === hostname) ??
    rules.find(
      r =>
        r.wildcard &&
        hostname.endsWith(r.host) &&
        hostname.length > r.host.length
    )
  );
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const LABEL = '[a-z0-9]([a-z0-9-]*[a-z0-9])?';
/** 1 to 65535, as URL takes a port. */
const PORT =
  '(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';

/**
 * The URLs these rules let in, as one regular expression (the OpenAPI document's `pattern`,
 * and the check itself): a scheme the host's rule allows, the host exactly (lowercase, no user
 * name or password), an optional port, then a path, query or fragment. Null when none is.
 */
export function webhookPattern(rules: readonly HostRule[]): string | null {
  if (!rules.length) return null;
  const alternatives = rules.map(r => {
    const scheme = r.http ? 'https?' : 'https';
    const host = r.wildcard
      ? `${LABEL}(\\.${LABEL})*${escape(r.host)}`
      : escape(r.host);
    return `${scheme}://${host}`;
  });
  return `^(${alternatives.join('|')})(:${PORT})?([/?#][^\\x00-\\x20\\x7f]*)?$`;
}

/**
 * Why `url` is not allowed, in a sentence, or null when it is. `pattern` is webhookPattern's.
 */
export function webhookRefusal(
  rules: readonly HostRule[],
  url: string
): string | null {
  const listed = rules
    .map(r => `${r.http ? 'http://' : ''}${r.wildcard ? '*' : ''}${r.host}`)
    .join(', ');
  const pattern = webhookPattern(rules);
  if (!pattern)
    return 'This sidecar sends no webhooks: its operator allows no webhook hosts (notifications.allowed_webhook_hosts).';
  if (new RegExp(pattern).test(url)) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"webhook" must be a URL such as https://hooks.slack.com/services/...; "${url.slice(0, 100)}" is not one.`;
  }
  const rule = ruleFor(rules, parsed.hostname);
  if (!rule)
    return `The webhook's host "${parsed.hostname}" is not one this sidecar may send to (notifications.allowed_webhook_hosts: ${listed}); ask its operator to allow it, or use one of these.`;
  if (parsed.protocol === 'http:' && !rule.http)
    return `The webhook must use https: this sidecar sends to ${parsed.hostname} over https only.`;
  return `Write the webhook URL with its host in lowercase, an https${rule.http ? ' or http' : ''} scheme and no user name or password, e.g. https://${parsed.hostname}/...`;
}

/** Addresses a webhook never reaches unless its exact host is listed (loopback, private...). */
const INTERNAL = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4] // reserved, broadcast
] as const)
  INTERNAL.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local (fd00:ec2::254: a cloud's metadata)
  ['fe80::', 10], // link-local
  ['ff00::', 8] // multicast
] as const)
  INTERNAL.addSubnet(net, bits, 'ipv6');

/** IPv4 inside IPv6 (::ffff:a.b.c.d, 64:ff9b::a.b.c.d) is judged as the IPv4 address. */
function embeddedIPv4(address: string): string | undefined {
  const m =
    /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address) ??
    /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!m) return undefined;
  if (m.length === 2 || m[2] === undefined) return m[1];
  const hi = parseInt(m[1], 16);
  const lo = parseInt(m[2], 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Whether `address` (an IP) is loopback, private, link-local, metadata, multicast or reserved. */
export function isInternalAddress(address: string): boolean {
  const v4 = embeddedIPv4(address);
  if (v4) return INTERNAL.check(v4, 'ipv4');
  const family = isIP(address);
  if (family === 4) return INTERNAL.check(address, 'ipv4');
  if (family === 6) return INTERNAL.check(address, 'ipv6');
  return true; // not an address at all: never reached
}
