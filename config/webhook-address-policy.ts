import { BlockList, isIP } from 'node:net';

/**
 * Which addresses a webhook may reach. A webhook URL comes from config, but alert events are pushed to it
 * by the platform from inside the city network: pointed at loopback, a private range or a cloud metadata
 * service, it would make the platform a proxy into places its operators never meant to expose (SSRF). So
 * such targets are refused unless the target says `allowPrivate: true`. Cloud metadata is refused always:
 * no receiver lives there, and its answers carry credentials.
 * The same check runs at config load (literal addresses, names that are loopback by definition) and on
 * the address actually connected (alerts/delivery/webhook-connect.ts), so DNS cannot rebind around it.
 */
export type AddressClass =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'cloud-metadata';

const METADATA = new BlockList();
METADATA.addAddress('169.254.169.254'); // AWS, GCP, Azure, OpenStack
METADATA.addAddress('100.100.100.200'); // Alibaba Cloud
METADATA.addAddress('fd00:ec2::254', 'ipv6'); // AWS over IPv6

const RANGES: Array<[AddressClass, string, number, 'ipv4' | 'ipv6']> = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['private', '100.64.0.0', 10, 'ipv4'], // carrier-grade NAT, shared address space
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'], // includes 255.255.255.255
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
];
const LISTS = RANGES.map(([cls, net, prefix, family]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { cls, list, family };
});

/** An IPv4 address written inside IPv6 (::ffff:a.b.c.d, or its hex form) reaches the IPv4 host. */
function embeddedIpv4(address: string): string | undefined {
  const m = /^::ffff:(?:0:)?(.+)$/i.exec(address);
  if (!m) return undefined;
  if (isIP(m[1]!) === 4) return m[1];
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(m[1]!);
  if (!hex) return undefined;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The class of an address a webhook must not reach, or undefined for a public one. */
export function classifyAddress(address: string): AddressClass | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const v4 = embeddedIpv4(bare);
  if (v4) return classifyAddress(v4);
  const family = isIP(bare) === 6 ? 'ipv6' : isIP(bare) === 4 ? 'ipv4' : undefined;
  if (!family) return undefined;
  if (METADATA.check(bare, family)) return 'cloud-metadata';
  return LISTS.find((l) => l.family === family && l.list.check(bare, family))?.cls;
}

/** Names that mean one of those addresses whatever DNS says (RFC 6761), or a cloud metadata service. */
function classifyName(hostname: string): AddressClass | undefined {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  if (name === 'metadata.google.internal' || name === 'metadata') return 'cloud-metadata';
  return undefined;
}

/** Why a target host or address is refused, as a sentence for logs and config errors; undefined: allowed. */
export function refusalReason(host: string, allowPrivate: boolean, resolvedFrom?: string): string | undefined {
  const cls = classifyAddress(host) ?? classifyName(host);
  if (!cls || (allowPrivate && cls !== 'cloud-metadata')) return undefined;
  const what = resolvedFrom ? `"${resolvedFrom}" resolves to ${host}` : `${host}`;
  if (cls === 'cloud-metadata') return `${what} is a cloud metadata address; webhooks may never reach it`;
  return `${what} is a ${cls} address; webhooks reach only public addresses unless the target sets allowPrivate: true`;
}
