import { describe, expect, it } from 'vitest';
import { addressKey } from './address-key.ts';

describe('the address a per-address limit counts', () => {
  it('keeps IPv4 as it is and counts an IPv4 address carried in IPv6 as that address', () => {
    expect(addressKey('198.51.100.7')).toBe('198.51.100.7');
    expect(addressKey('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(addressKey('::FFFF:198.51.100.7')).toBe('198.51.100.7');
    // the same mapped address written in hex groups
    expect(addressKey('::ffff:c633:6407')).toBe('198.51.100.7');
    expect(addressKey('0:0:0:0:0:ffff:c633:6407')).toBe('198.51.100.7');
  });

  it('counts IPv6 by its /64, however the address is written', () => {
    const key = '2001:db8:1:2::/64';
    for (const address of [
      '2001:db8:1:2::1',
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0DB8:0001:0002:aaaa:0:0:1',
      '2001:db8:1:2:0:0:c633:6407',
      '2001:db8:1:2::198.51.100.7',
      '2001:db8:1:2::9%eth0',
    ])
      expect(addressKey(address), address).toBe(key);
    expect(addressKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::')).toBe('0:0:0:0::/64');
    expect(addressKey('1::')).toBe('1:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    // not mapped (the deprecated IPv4-compatible form, NAT64): IPv6 like any other
    expect(addressKey('::198.51.100.7')).toBe('0:0:0:0::/64');
    expect(addressKey('64:ff9b::198.51.100.7')).toBe('64:ff9b:0:0::/64');
  });

  it('returns what is not an address as it is', () => {
    expect(addressKey('unknown')).toBe('unknown');
    expect(addressKey('')).toBe('');
    expect(addressKey('2001:db8::1::2')).toBe('2001:db8::1::2');
  });
});
