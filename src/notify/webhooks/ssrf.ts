// Server-side request forgery: a webhook URL is chosen by an admin, but the gateway sits inside the
// network, so a URL must not reach what only the gateway can (metadata services, databases,
// admin ports). Checked when an endpoint is saved and again, after DNS, when a delivery connects:
// the addresses checked are the ones connected to (see pinnedLookup), so DNS rebinding between
// the check and the connection gains nothing.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { AppError, ErrorCode } from '../../errors.js';

/** Resolves a host name to every address it has (dns.lookup with `all: true`). */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

/** The system resolver (what node:http would use). */
export const systemResolve: ResolveHost = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT (and some clouds' metadata, e.g. 100.100.100.200)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, with the metadata address 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
] as const) blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): only a site's own translator routes it, to any IPv4 address and prefix length
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (fd00:ec2::254 is a metadata address)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) blocked.addSubnet(net, bits, 'ipv6');

/** The IPv4 address an IPv6 address carries (mapped, compatible, SIIT, NAT64, 6to4), if any. */
function embeddedIpv4(ip: string): string | undefined {
  const groups = expandIpv6(ip);
  if (!groups) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 5) && (groups[5] === 0xffff || groups[5] === 0)) return v4(groups[6], groups[7]); // ::ffff:a.b.c.d, ::a.b.c.d
  if (zeros(0, 4) && groups[4] === 0xffff && groups[5] === 0) return v4(groups[6], groups[7]); // SIIT ::ffff:0:a.b.c.d
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6], groups[7]); // NAT64
  if (groups[0] === 0x2002) return v4(groups[1], groups[2]); // 6to4
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address, or undefined if it is not one. */
function expandIpv6(ip: string): number[] | undefined {
  if (isIP(ip) !== 6) return undefined;
  let s = ip.split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    s = s.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

/** Why an address may not be a webhook destination, or null when it may. */
export function forbiddenAddressReason(ip: string): string | null {
  const family = isIP(ip);
  if (family === 0) return `${ip} is not an IP address`;
  if (family === 4) return blocked.check(ip, 'ipv4') ? `${ip} is a private, loopback, link-local or reserved address` : null;
  // A mapped address is named by the IPv4 address the packets would reach (BlockList matches
  // mapped addresses against the IPv4 rules too, but its verdict would name the wrong family).
  const groups = expandIpv6(ip)!;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (!mapped && blocked.check(ip, 'ipv6')) return `${ip} is a loopback, unique-local, link-local, multicast or unspecified IPv6 address`;
  const v4 = embeddedIpv4(ip);
  if (v4 !== undefined && blocked.check(v4, 'ipv4')) return `${ip} carries the IPv4 address ${v4}, a private, loopback, link-local or reserved one`;
  return null;
}

/** The host of a URL as an address literal (brackets off), or undefined for a name. */
function literalAddress(hostname: string): string | undefined {
  const h = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return isIP(h) ? h : undefined;
}

/** `localhost` and its sub-domains are loopback by definition (RFC 6761), whatever a resolver says. */
function isLocalhostName(hostname: string): boolean {
  return /(^|\.)localhost\.?$/i.test(hostname);
}

const bad = (why: string) =>
  new AppError(ErrorCode.BadInput, `The webhook "url" is refused: ${why}.`);

/** The URL parsed, checked for shape only (http/https, no credentials, no fragment); BadInput saying why. */
export function parseWebhookUrl(raw: unknown): URL {
  if (typeof raw !== 'string' || raw.trim() === '') throw new AppError(ErrorCode.BadInput, 'Give "url": the https:// address that receives the webhooks.');
  if (raw.length > 2048) throw bad('it is longer than 2048 characters');
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw bad(`"${raw.slice(0, 100)}" is not a URL; give an absolute one such as https://hooks.example.com/hoop`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad(`only http and https are supported, not ${url.protocol.replace(':', '')}`);
  if (url.username || url.password) throw bad('it carries credentials (user:password@); put a token in the path or query instead, and verify the signature');
  if (url.hash) throw bad('it has a fragment (#...), which is never sent; remove it');
  if (!url.hostname) throw bad('it has no host');
  return url;
}

/**
 * Checks where `url` leads: an address literal is checked as it is, a name after resolving it (every
 * address it has must be allowed). Nothing is checked when private destinations are allowed.
 */
export async function checkDestination(url: URL, options: { allowPrivate: boolean; resolve?: ResolveHost }): Promise<void> {
  if (options.allowPrivate) return;
  const hint = ' (set WEBHOOK_ALLOW_PRIVATE=true on the gateway to allow internal receivers)';
  if (isLocalhostName(url.hostname)) throw bad(`its host ${url.hostname} is a loopback name${hint}`);
  const literal = literalAddress(url.hostname);
  if (literal) {
    const reason = forbiddenAddressReason(literal);
    if (reason) throw bad(reason + hint);
    return;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await (options.resolve ?? systemResolve)(url.hostname);
  } catch (error) {
    throw bad(`its host ${url.hostname} does not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the name`);
  }
  if (addresses.length === 0) throw bad(`its host ${url.hostname} has no address`);
  for (const a of addresses) {
    const reason = forbiddenAddressReason(a.address);
    if (reason) throw bad(`its host ${url.hostname} resolves to ${reason}${hint}`);
  }
}

/** A refusal at delivery time (the destination resolved to a forbidden address). */
export class ForbiddenDestinationError extends Error {}

/**
 * A `lookup` for node:http that resolves, checks every address, and hands the socket exactly the
 * addresses it checked: the connection goes where the check looked.
 */
export function pinnedLookup(options: { allowPrivate: boolean; resolve?: ResolveHost }): LookupFunction {
  const resolve = options.resolve ?? systemResolve;
  return (hostname, opts, callback) => {
    resolve(hostname).then(
      (all) => {
        const family = typeof opts === 'object' ? opts.family : undefined;
        const addresses = family === 4 || family === 6 ? all.filter((a) => a.family === family) : all;
        const refused = options.allowPrivate ? null : addresses.map((a) => forbiddenAddressReason(a.address)).find((r) => r !== null);
        if (refused) return callback(new ForbiddenDestinationError(`${hostname} resolves to ${refused}`), '', 0);
        if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
        if (typeof opts === 'object' && opts.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        callback(null, addresses[0].address, addresses[0].family);
      },
      (err: Error) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  };
}

/** The literal address of a URL's host, checked (node:http does not call `lookup` for literals), and localhost names. */
export function checkLiteralHost(url: URL, allowPrivate: boolean): void {
  if (allowPrivate) return;
  if (isLocalhostName(url.hostname)) throw new ForbiddenDestinationError(`${url.hostname} is a loopback name`);
  const literal = literalAddress(url.hostname);
  if (!literal) return;
  const reason = forbiddenAddressReason(literal);
  if (reason) throw new ForbiddenDestinationError(reason);
}
