import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a tenant-supplied URL must never reach from our servers (server-side request
 * forgery): this host, private and carrier-grade NAT ranges, link-local (cloud metadata at
 * 169.254.169.254), multicast and reserved ranges. BlockList checks an IPv4-mapped IPv6 address
 * (::ffff:127.0.0.1) against the IPv4 ranges; NAT64 (64:ff9b::/96) is refused whole.
 */
const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64: reaches IPv4 addresses, private ones included
  ['2001:db8::', 32],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** Whether `address` (an IPv4 or IPv6 literal) is outside the public internet. Not an address: true. */
export function isPrivateNetworkAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Thrown (as a connection error) when a URL's host is or resolves only to private addresses. */
export class PrivateNetworkAddressError extends Error {
  readonly code = 'EPRIVATEADDRESS';
  constructor(host: string) {
    super(`${host} is not on the public internet`);
    this.name = 'PrivateNetworkAddressError';
  }
}

/**
 * Why the host of `url` may not be called, or undefined when it may be (its name still has to
 * resolve to a public address: `publicNetworkLookup`). Literal addresses and "localhost" are
 * refused here, since connecting to a literal address does no lookup.
 */
export function privateUrlHost(url: string): string | undefined {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return host;
  if (isIP(host) !== 0 && isPrivateNetworkAddress(host)) return host;
  return undefined;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A DNS lookup for node:http(s) requests that keeps only public addresses and fails when none is
 * left: the connection is made to an address checked here, so a name that resolves differently
 * between a check and the connection (DNS rebinding) gains nothing.
 */
export function publicNetworkLookup(hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const allowed = addresses.filter((entry) => !isPrivateNetworkAddress(entry.address));
    if (allowed.length === 0) return callback(new PrivateNetworkAddressError(hostname), []);
    if ((options as LookupAllOptions).all) return callback(null, allowed);
    return callback(null, allowed[0]!.address, allowed[0]!.family);
  });
}
