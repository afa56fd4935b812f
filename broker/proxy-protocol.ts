import { isIPv4, isIPv6 } from 'node:net';

/**
 * The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): the header a load balancer in TCP mode
 * sends before the client's own bytes, naming the client's address. Pure: bytes in, a verdict out, so it can
 * be fed everything (proxy-protocol.property.test.ts). broker/proxy-preamble.ts reads it off a socket.
 *
 * aedes-protocol-decoder (moscajs) was evaluated and not used: its last release is of 2023 and built for
 * aedes 0.x (Aedes 1.x no longer calls `decodeProtocol`); it decodes only the first chunk (a header split
 * across TCP segments is missed), takes a PROXY header or X-Forwarded-For from any peer (no trusted list:
 * every client could name its own address), treats a v2 LOCAL like PROXY, and writes IPv6 in a form that
 * differs from the socket's, so the same client would get two keys.
 */
export interface ProxySource {
  address: string;
  port: number;
}

export type ProxyHeader =
  /** more bytes are needed to decide */
  | { kind: 'incomplete' }
  /** the bytes do not begin with a PROXY header (an MQTT CONNECT, a TLS ClientHello) */
  | { kind: 'none' }
  | { kind: 'invalid'; reason: string }
  /** `bytes`: the header's length; `source` absent for v2 LOCAL, v1 UNKNOWN and non-IP families */
  | { kind: 'header'; version: 1 | 2; bytes: number; source?: ProxySource };

const V1 = Buffer.from('PROXY ', 'latin1');
const V2 = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** the whole v1 line, CRLF included, is at most 107 bytes */
export const V1_MAX_BYTES = 107;
/** v2 may carry TLVs after the addresses; HAProxy's send-proxy-v2 sends none by default. More is refused. */
export const V2_MAX_BYTES = 16 + 2048;

function startsLike(buf: Buffer, signature: Buffer): boolean {
  const n = Math.min(buf.length, signature.length);
  return buf.subarray(0, n).equals(signature.subarray(0, n));
}

export function parseProxyHeader(buf: Buffer): ProxyHeader {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (startsLike(buf, V2)) return buf.length < 16 ? { kind: 'incomplete' } : parseV2(buf);
  if (startsLike(buf, V1)) return buf.length < V1.length ? { kind: 'incomplete' } : parseV1(buf);
  return { kind: 'none' };
}

/** `PROXY TCP4 <src> <dst> <sport> <dport>\r\n`, `PROXY TCP6 …`, or `PROXY UNKNOWN[ anything]\r\n` */
function parseV1(buf: Buffer): ProxyHeader {
  const end = buf.subarray(0, V1_MAX_BYTES).indexOf('\r\n');
  if (end < 0) {
    return buf.length >= V1_MAX_BYTES
      ? { kind: 'invalid', reason: `PROXY v1 line longer than ${V1_MAX_BYTES} bytes` }
      : { kind: 'incomplete' };
  }
  const bytes = end + 2;
  const line = buf.subarray(0, end).toString('latin1');
  const parts = line.split(' ');
  if (parts[1] === 'UNKNOWN') return { kind: 'header', version: 1, bytes };
  if (parts.length !== 6) return { kind: 'invalid', reason: 'PROXY v1 line without 6 fields' };
  const [, family, src = '', dst = '', sport = '', dport = ''] = parts;
  const valid = family === 'TCP4' ? isIPv4 : family === 'TCP6' ? isIPv6 : undefined;
  if (!valid) return { kind: 'invalid', reason: 'PROXY v1 family is not TCP4, TCP6 or UNKNOWN' };
  // a zone index (fe80::1%eth0) names an interface of the balancer's host, no client
  if (!valid(src) || !valid(dst) || `${src}${dst}`.includes('%'))
    return { kind: 'invalid', reason: `PROXY v1 addresses are not ${family}` };
  const port = (text: string) => (/^(0|[1-9]\d{0,4})$/.test(text) && Number(text) <= 65535 ? Number(text) : -1);
  if (port(sport) < 0 || port(dport) < 0) return { kind: 'invalid', reason: 'PROXY v1 port out of range' };
  const address = family === 'TCP6' ? canonicalIpv6(ipv6Bytes(src)) : src;
  return { kind: 'header', version: 1, bytes, source: { address, port: port(sport) } };
}

function parseV2(buf: Buffer): ProxyHeader {
  const versionCommand = buf[12]!;
  if (versionCommand >> 4 !== 2) return { kind: 'invalid', reason: 'PROXY v2 header of another version' };
  const command = versionCommand & 0x0f;
  if (command > 1) return { kind: 'invalid', reason: 'PROXY v2 command is neither LOCAL nor PROXY' };
  const familyTransport = buf[13]!;
  const length = buf.readUInt16BE(14);
  const bytes = 16 + length;
  if (bytes > V2_MAX_BYTES) return { kind: 'invalid', reason: `PROXY v2 header longer than ${V2_MAX_BYTES} bytes` };
  if (buf.length < bytes) return { kind: 'incomplete' };
  // LOCAL: the balancer speaking for itself (a health check); the connection's own address stands
  if (command === 0) return { kind: 'header', version: 2, bytes };
  const family = familyTransport >> 4;
  const transport = familyTransport & 0x0f;
  if (family > 3 || transport > 2) return { kind: 'invalid', reason: 'PROXY v2 unknown address family' };
  if (transport === 2) return { kind: 'invalid', reason: 'PROXY v2 datagram transport on a stream' };
  const body = buf.subarray(16, bytes);
  if (family === 1) {
    if (body.length < 12) return { kind: 'invalid', reason: 'PROXY v2 IPv4 block shorter than 12 bytes' };
    const address = `${body[0]}.${body[1]}.${body[2]}.${body[3]}`;
    return { kind: 'header', version: 2, bytes, source: { address, port: body.readUInt16BE(8) } };
  }
  if (family === 2) {
    if (body.length < 36) return { kind: 'invalid', reason: 'PROXY v2 IPv6 block shorter than 36 bytes' };
    const address = canonicalIpv6(body.subarray(0, 16));
    return { kind: 'header', version: 2, bytes, source: { address, port: body.readUInt16BE(32) } };
  }
  // UNSPEC or a unix socket: no IP address to give
  return { kind: 'header', version: 2, bytes };
}

/** 16 bytes of an IPv6 address from its text (already checked by isIPv6). */
function ipv6Bytes(text: string): Buffer {
  let head = text;
  let v4: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    head = `${dotted[1]}0:0`;
    v4 = dotted[2]!.split('.').map(Number);
  }
  const [left = '', right] = head.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const all = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  const out = Buffer.alloc(16);
  for (const [i, g] of all.entries()) out.writeUInt16BE(g, i * 2);
  if (v4.length === 4) out.set(v4, 12);
  return out;
}

/**
 * RFC 5952 text of 16 bytes (lower case, the longest run of zero groups as ::), an IPv4-mapped address as
 * its IPv4 form: the same client then has the same key whichever way the balancer wrote it.
 */
export function canonicalIpv6(bytes: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
