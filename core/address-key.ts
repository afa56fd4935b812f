import { isIPv4, isIPv6 } from 'node:net';

/**
 * The address a per-address limit or log counts (sign-ins, provisioning claims, MQTT sockets per address, CONNECT
 * penalties by address, the refusal logs' keys): IPv4 as it is; IPv6 by its /64, since one subscriber's prefix
 * holds 2^64 addresses and counting them one by one would bound nothing; an IPv4 address carried in IPv6
 * (`::ffff:a.b.c.d`, also written `::ffff:a0b:c0d`) as that IPv4 address. A zone (`fe80::1%eth0`) is left out.
 * Anything that is not an address (a Unix socket's, "unknown") is returned as it is.
 * The /64 is written `2001:db8:0:0::/64`: the first four groups without their leading zeros.
 */
export function addressKey(address: string): string {
  if (isIPv4(address)) return address;
  const bare = address.replace(/%[^%]*$/, '');
  if (!isIPv6(bare)) return address;
  const groups = ipv6Groups(bare);
  // ::ffff:0:0/96 (mapped); the deprecated ::a.b.c.d form is not mapped and counts as IPv6
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 text (checked by the caller), a dotted IPv4 tail included. */
function ipv6Groups(text: string): number[] {
  let value = text.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(value);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    value = `${value.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = value.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => Number.parseInt(g, 16));
}
