import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnPlatform } from '../test-support/platform-process.ts';
import { ConfigError } from './config-error.ts';
import { enforceListeningPolicy, evaluateListeningPolicy, isLoopback } from './listening-policy.ts';
import { loadPlatformConfig } from './platform-config.ts';

const config = (env: Record<string, string>) => loadPlatformConfig({ env });

describe('listening policy', () => {
  it('listens on loopback by default, and reads the TLS keys from the environment', () => {
    const c = config({
      IOC_TLS_CERT: 'tls/server.crt',
      IOC_TLS_KEY: '/etc/ioc/server.key',
      IOC_TLS_MQTT_PORT: '18883',
      IOC_ALLOW_PLAINTEXT: '1',
    });
    expect([c.mqtt.host, c.http.host]).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(c.tls).toMatchObject({
      cert: expect.stringMatching(/^\/.+\/config\/tls\/server\.crt$/),
      key: '/etc/ioc/server.key',
      mqttPort: 18883,
      http: true,
      requireClientCert: false,
    });
    expect(c.security.allowPlaintext).toBe(true);
    expect(evaluateListeningPolicy(config({})).loopbackOnly).toBe(true);
  });

  it('refuses half a TLS configuration with the key to set', () => {
    expect(() => config({ IOC_TLS_CERT: '/x.crt' })).toThrow(/tls\.key.*tls\.cert and tls\.key go together/s);
    expect(() => config({ IOC_TLS_CERT: '/x.crt', IOC_TLS_KEY: '/x.key', IOC_TLS_REQUIRE_CLIENT_CERT: '1' })).toThrow(
      /requireClientCert needs tls\.ca/,
    );
  });

  it('tells loopback from the network', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'])
      expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'ioc.example.vn', '128.0.0.1', ''])
      expect(isLoopback(h), h).toBe(false);
  });

  it('refuses each plaintext listener beyond loopback in production, naming it and how to configure TLS', () => {
    const c = config({ IOC_PROFILE: 'production', IOC_MQTT_HOST: '0.0.0.0', IOC_HTTP_HOST: '10.1.2.3' });
    expect(() => enforceListeningPolicy(c)).toThrow(ConfigError);
    expect(() => enforceListeningPolicy(c)).toThrow(
      new RegExp(
        String.raw`MQTT over TCP on 0\.0\.0\.0:1883 is plaintext.*\n.*HTTP .* on 10\.1\.2\.3:8080 is plaintext.*\n` +
          String.raw`.*tls\.cert and tls\.key \(IOC_TLS_CERT, IOC_TLS_KEY`,
        's',
      ),
    );
    // demo profile: allowed (it says so at start); production with an explicit allowPlaintext: allowed, and listed
    expect(evaluateListeningPolicy(config({ IOC_MQTT_HOST: '0.0.0.0' })).refused).toEqual([]);
    expect(
      evaluateListeningPolicy(
        config({ IOC_PROFILE: 'production', IOC_MQTT_HOST: '0.0.0.0', IOC_ALLOW_PLAINTEXT: '1' }),
      ).allowedPlaintext.map((l) => l.name),
    ).toEqual(['MQTT over TCP']);
  });

  it('lets production open TLS listeners to the network while plain MQTT stays on loopback', () => {
    const c = config({
      IOC_PROFILE: 'production',
      IOC_HTTP_HOST: '0.0.0.0',
      IOC_TLS_MQTT_HOST: '0.0.0.0',
      IOC_TLS_CERT: '/c.crt',
      IOC_TLS_KEY: '/c.key',
    });
    expect(enforceListeningPolicy(c).refused).toEqual([]);
    // a TLS proxy in front of plaintext HTTP on another host is the operator's explicit choice
    const behindProxy = loadPlatformConfig({
      env: { IOC_PROFILE: 'production', IOC_HTTP_HOST: '0.0.0.0', IOC_TLS_CERT: '/c.crt', IOC_TLS_KEY: '/c.key' },
      overrides: { tls: { http: false } },
    });
    expect(evaluateListeningPolicy(behindProxy).refused.map((l) => l.hostKey)).toEqual(['http.host (IOC_HTTP_HOST)']);
  });

  it('stops a production process that would listen in plaintext on every interface, with the message', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ioc-policy-'));
    try {
      const start = spawnPlatform({ IOC_PROFILE: 'production', IOC_DATA_DIR: dataDir, IOC_HTTP_HOST: '0.0.0.0' });
      const err = await start.then(
        () => new Error('the platform started'),
        (e: Error) => e,
      );
      expect(err.message).toMatch(/platform exited \(1\)/);
      expect(err.message).toMatch(
        /ioc: cannot start: the production profile does not listen in plaintext beyond this machine/,
      );
      expect(err.message).toMatch(/HTTP \(API, console.*\) on 0\.0\.0\.0:0 is plaintext/);
      expect(err.message).toMatch(/security\.allowPlaintext: true \(IOC_ALLOW_PLAINTEXT=1\)/);
      expect(err.message).not.toMatch(/listening on/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
