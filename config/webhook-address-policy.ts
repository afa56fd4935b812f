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
  ['reserved', '192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
  ['reserved', '192.0.2.0', 24, 'ipv4'], // documentation (TEST-NET-1..3)
  ['reserved', '198.51.100.0', 24, 'ipv4'],
  ['reserved', '203.0.113.0', 24, 'ipv4'],
  ['private', '198.18.0.0', 15, 'ipv4'], // benchmarking, often used inside networks
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['private', 'fec0::', 10, 'ipv6'], // site-local (deprecated, still routed inside some networks)
  ['private', '64:ff9b:1::', 48, 'ipv6'], // local-use NAT64
  ['reserved', '100::', 64, 'ipv6'], // discard
  ['reserved', '2001:db8::', 32, 'ipv6'], // documentation
  ['multicast', 'ff00::', 8, 'ipv6'],
];
const LISTS = RANGES.map(([cls, net, prefix, family]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { cls, list, family };
});

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const part = (p: string | undefined) => (p ? p.split(':').map((g) => parseInt(g, 16)) : []);
  const left = part(head);
  const right = part(tail);
  return tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

const quad = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/**
 * An IPv4 address carried inside IPv6 reaches the IPv4 host: mapped (::ffff:a.b.c.d, and ::ffff:0:a.b.c.d),
 * NAT64 (64:ff9b::a.b.c.d, through the network's translator) and 6to4 (2002:aabb:ccdd::, through a relay).
 */
function embeddedIpv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  if (!g) return undefined;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return quad(g[6]!, g[7]!);
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return quad(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return quad(g[6]!, g[7]!);
  if (g[0] === 0x2002) return quad(g[1]!, g[2]!);
  return undefined;
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
