import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { loadPlatformConfig } from './platform-config.ts';
import { plainAddress, proxyTrust } from './trusted-proxies.ts';

describe('trusted proxies (issue 12)', () => {
  it('trusts nobody by default', () => {
    const config = loadPlatformConfig({ env: {} });
    expect(config.mqtt.trustedProxies).toEqual([]);
    expect(config.http.trustedProxies).toEqual([]);
    expect(proxyTrust([])('127.0.0.1')).toBe(false);
  });

  it('takes addresses and CIDR ranges from the environment and matches IPv4 seen through IPv6', () => {
    const config = loadPlatformConfig({
      env: { IOC_MQTT_TRUSTED_PROXIES: '10.0.0.5, 10.0.1.0/24,fd00::/64', IOC_HTTP_TRUSTED_PROXIES: '10.0.0.5' },
    });
    expect(config.mqtt.trustedProxies).toEqual(['10.0.0.5', '10.0.1.0/24', 'fd00::/64']);
    expect(config.http.trustedProxies).toEqual(['10.0.0.5']);
    const trusted = proxyTrust(config.mqtt.trustedProxies);
    expect(['10.0.0.5', '::ffff:10.0.0.5', '10.0.1.200', 'fd00::1'].map(trusted)).toEqual([true, true, true, true]);
    expect(['10.0.0.6', '10.0.2.1', 'fd01::1', 'unknown', ''].map(trusted)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(plainAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(plainAddress('2001:db8::1')).toBe('2001:db8::1');
  });

  it('refuses what is not an address or a range, naming the key, and does not start', () => {
    const everyone = ['0.0.0.0/0', '::/0', '10.0.0.0/0']; // a /0 would let any client name its own address
    for (const bad of ['haproxy.local', '10.0.0.0/33', '10.0.0.1/8/8', 'fd00::/129', '10.0.0.0/-1', ...everyone]) {
      let error: unknown;
      try {
        loadPlatformConfig({ env: { IOC_MQTT_TRUSTED_PROXIES: bad } });
      } catch (err) {
        error = err;
      }
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect(String((error as Error).message)).toMatch(/mqtt\.trustedProxies/);
    }
  });
});
