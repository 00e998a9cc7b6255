import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

/**
 * Whether an address is one the public internet routes: not loopback, private
 * (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, where cloud
 * metadata services answer; fe80::/10), carrier-grade NAT, unspecified,
 * multicast, broadcast or reserved. IPv4 written as IPv6 (::ffff:a.b.c.d) is
 * judged as the IPv4 it is.
 */
export const isPublicAddress = (address: string): boolean => {
  if (!ipaddr.isValid(address)) return false;
  const range = ipaddr.process(address).range();
  return range === 'unicast';
};

/**
 * Why a webhook URL must not be posted to when private networks are not
 * allowed, or undefined: its host is, or resolves to, an address that is not
 * public (every address it resolves to is looked at). Server-side request
 * forgery is a campaign's webhookUrl pointed at Tally's own network.
 */
export const privateDestination = async (url: string): Promise<string | undefined> => {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = ipaddr.isValid(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
  const inner = addresses.find((address) => !isPublicAddress(address));
  if (inner === undefined) return undefined;
  return `${inner === host ? `${host} is` : `${host} resolves to ${inner},`} not a public address (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows it)`;
};
