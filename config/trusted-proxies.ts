import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

/**
 * `mqtt.trustedProxies` and `http.trustedProxies`: the load balancers (HAProxy, deploy/haproxy.cfg) whose word
 * about a client's address the platform takes. Behind one, every connection comes from the balancer, so each
 * limit per address (sign-in failures, provisioning, MQTT sockets, CONNECT penalties) would key on it and one
 * attacker's guesses would lock everyone out. A trusted MQTT peer must open with a PROXY protocol header
 * (broker/proxy-protocol.ts); a trusted HTTP peer's X-Forwarded-For is honoured (Fastify `trustProxy`).
 * Nobody else's: a PROXY header or X-Forwarded-For from any other peer is the client's own claim. Empty (the
 * default): no proxy is trusted.
 */
const entry = z
  .string()
  .trim()
  .refine((s) => parseEntry(s) !== undefined, {
    message: 'an IP address or a CIDR range such as 10.0.0.0/24 or fd00::/64',
  })
  // a /0 trusts every peer, so every client could name its own address and walk past each limit per address
  .refine((s) => parseEntry(s)?.prefix !== 0, {
    message: 'a range of every address (/0) would trust every client; name the load balancers',
  });

export const trustedProxiesSchema = z.array(entry).max(256).default([]);

interface Entry {
  address: string;
  family: 'ipv4' | 'ipv6';
  prefix: number | undefined;
}

function parseEntry(text: string): Entry | undefined {
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address, family, prefix: undefined };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address, family, prefix };
}

/** An IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d) is the IPv4 address: one key per client. */
export function plainAddress(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m ? m[1]! : address;
}

/** Whether a peer address is one of the trusted proxies (false for every address when the list is empty). */
export type ProxyTrust = (peer: string) => boolean;

export function proxyTrust(entries: readonly string[]): ProxyTrust {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const text of entries) {
    const e = parseEntry(text);
    if (!e) throw new Error(`not an address or CIDR range: ${text}`);
    if (e.prefix === 0) throw new Error(`a range of every address trusts every client: ${text}`);
    if (e.prefix === undefined) list.addAddress(e.address, e.family);
    else list.addSubnet(e.address, e.prefix, e.family);
  }
  return (peer) => {
    const address = plainAddress(peer);
    const version = isIP(address);
    if (version === 0) return false;
    return list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };
}

/** `IOC_MQTT_TRUSTED_PROXIES=10.0.0.5,10.0.1.0/24`: a comma-separated list, blanks ignored. */
export function splitProxyList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
