import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParameters } from '../test-support/fuzz.ts';
import { ipv4Bytes, proxyV1, proxyV2 } from '../test-support/proxy-header.ts';
import { canonicalIpv6, parseProxyHeader, V2_MAX_BYTES } from './proxy-protocol.ts';

/**
 * The PROXY protocol parser is fed what a hostile peer could send: whatever the bytes, it decides without
 * throwing, never claims more bytes than it was given, and reads back exactly the address a balancer wrote,
 * however the header is split across reads.
 */
const { numRuns, seed } = fuzzParameters(2000);

/** WHATWG's IPv6 serialisation is RFC 5952's; an IPv4-mapped address is read as its IPv4 form */
function expectedIpv6(text: string): string {
  const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (!mapped) return host;
  const hi = parseInt(mapped[1]!, 16);
  const lo = parseInt(mapped[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

function ipv6ToBytes(text: string): Uint8Array {
  const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const [l = '', r] = host.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = groups(l);
  const right = r === undefined ? [] : groups(r);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 255;
  });
  return out;
}

const port = fc.integer({ min: 0, max: 65535 });
const trailing = fc.uint8Array({ maxLength: 64 });
const address = fc.oneof(
  fc.ipV4().map((a) => ({ text: a, bytes: ipv4Bytes(a), expected: a })),
  fc.ipV6().map((a) => ({ text: a, bytes: ipv6ToBytes(a), expected: expectedIpv6(a) })),
);
const header = fc
  .record({ src: address, dst: address, sport: port, dport: port, v: fc.constantFrom(1, 2) })
  // a header's two addresses are of one family
  .filter(({ src, dst }) => src.bytes.length === dst.bytes.length)
  .map(({ src, dst, sport, dport, v }) => ({
    bytes: v === 1 ? proxyV1(src.text, sport, dst.text, dport) : proxyV2(src.bytes, sport, dst.bytes, dport),
    source: { address: src.expected, port: sport },
  }));

describe('PROXY protocol parser under fuzzing (issue 12)', () => {
  it('decides any bytes without throwing and never claims more than it was given', () => {
    const prefixed = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.concat([Buffer.from('PROXY '), b])),
      fc
        .uint8Array({ maxLength: 200 })
        .map((b) => Buffer.concat([Buffer.from('0d0a0d0a000d0a515549540a', 'hex'), Buffer.from(b)])),
    );
    fc.assert(
      fc.property(prefixed, (bytes) => {
        const result = parseProxyHeader(Buffer.from(bytes));
        expect(['incomplete', 'none', 'invalid', 'header']).toContain(result.kind);
        if (result.kind === 'header') expect(result.bytes).toBeLessThanOrEqual(bytes.length);
        if (result.kind === 'invalid') expect(result.reason).toMatch(/^PROXY v[12] /);
      }),
      { seed, numRuns },
    );
  });

  it('reads back the address and port a balancer wrote, v1 and v2, IPv4 and IPv6, whatever follows', () => {
    fc.assert(
      fc.property(header, trailing, (h, rest) => {
        const result = parseProxyHeader(Buffer.concat([h.bytes, rest]));
        expect(result).toEqual({
          kind: 'header',
          version: expect.any(Number),
          bytes: h.bytes.length,
          source: h.source,
        });
      }),
      { seed, numRuns },
    );
  });

  it('asks for more bytes at every split of a header (TCP may cut it anywhere)', () => {
    fc.assert(
      fc.property(header, fc.nat(), (h, cut) => {
        const at = 1 + (cut % (h.bytes.length - 1));
        expect(parseProxyHeader(h.bytes.subarray(0, at)).kind).toBe('incomplete');
      }),
      { seed, numRuns },
    );
  });

  it('sees no header in an MQTT CONNECT or a TLS ClientHello, however it goes on', () => {
    fc.assert(
      fc.property(fc.constantFrom(0x10, 0x16), fc.uint8Array({ maxLength: 100 }), (first, rest) => {
        expect(parseProxyHeader(Buffer.concat([Buffer.from([first]), rest])).kind).toBe('none');
      }),
      { seed, numRuns },
    );
  });

  it('refuses what a balancer never sends, with a reason', () => {
    const v2 = proxyV2(ipv4Bytes('10.0.0.1'), 1, ipv4Bytes('10.0.0.2'), 2);
    const udp = Buffer.from(v2);
    udp[13] = 0x12;
    const local = Buffer.from(v2);
    local[12] = 0x20;
    const huge = Buffer.from(v2.subarray(0, 16));
    huge.writeUInt16BE(V2_MAX_BYTES, 14);
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`), /longer than 107/],
      [Buffer.from('PROXY TCP4 10.0.0.1 10.0.0.2 99999 1\r\n'), /port/],
      [Buffer.from('PROXY TCP4 ::1 ::1 1 1\r\n'), /not TCP4/],
      [Buffer.from('PROXY UDP4 10.0.0.1 10.0.0.2 1 1\r\n'), /family/],
      [Buffer.from('PROXY TCP4 10.0.0.1 10.0.0.2 1\r\n'), /6 fields/],
      [udp, /datagram/],
      [huge, /longer than/],
    ];
    for (const [bytes, reason] of cases) {
      const result = parseProxyHeader(bytes);
      expect(result.kind, bytes.toString('latin1')).toBe('invalid');
      if (result.kind === 'invalid') expect(result.reason).toMatch(reason);
    }
    // LOCAL (a balancer's own health check) and UNKNOWN name no client: the connection's address stands
    expect(parseProxyHeader(local)).toEqual({ kind: 'header', version: 2, bytes: v2.length });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ kind: 'header', version: 1, bytes: 15 });
  });

  it('writes IPv6 as RFC 5952 does', () => {
    const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
    expect(canonicalIpv6(hex('2001 0db8 0000 0000 0000 0000 0000 0001'))).toBe('2001:db8::1');
    expect(canonicalIpv6(hex('2001 0db8 0000 0001 0000 0000 0001 0001'))).toBe('2001:db8:0:1::1:1');
    expect(canonicalIpv6(hex('0000 0000 0000 0000 0000 0000 0000 0001'))).toBe('::1');
    expect(canonicalIpv6(hex('0000 0000 0000 0000 0000 ffff c0a8 0001'))).toBe('192.168.0.1');
  });
});
