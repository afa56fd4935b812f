import { X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { makeServerCert, type PemPair } from './cli/tls-dev-cert.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from './test-support/platform-harness.ts';
import {
  capturingLogger,
  httpsCall,
  makeTlsFixture,
  servedFingerprint,
  type TlsFixture,
} from './test-support/tls-fixture.ts';

/**
 * A renewed certificate goes into service without a restart: new connections get it, established ones
 * stay up; a pair that fails the checks is not used, the old one stays and one error is logged.
 */
describe('TLS certificate reload', () => {
  let tls: TlsFixture;
  let p: TestPlatform;
  let ca: PemPair;
  const log = capturingLogger();
  const port = (url: string) => Number(new URL(url).port);
  const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
  /** what cert-manager and certbot do: write beside, then rename over the served file */
  const replace = (file: string, text: string) => {
    writeFileSync(`${file}.new`, text, { mode: 0o600 });
    renameSync(`${file}.new`, file);
  };
  /** the file watcher is asynchronous: ask until the listener serves `expected` (the test timeout bounds it) */
  const until = async (check: () => Promise<boolean> | boolean) => {
    while (!(await check())) await new Promise((r) => setTimeout(r, 50));
  };

  beforeAll(async () => {
    tls = await makeTlsFixture();
    ca = { cert: tls.ca, key: readFileSync(join(tls.dir, 'ca.key'), 'utf8') };
    p = await startTestPlatform({
      logger: log.logger,
      overrides: { tls: { cert: tls.files.cert, key: tls.files.key, mqttPort: 0 } },
    });
  });
  afterAll(async () => {
    await p?.stop();
    tls?.remove();
  });

  it('says at start, in the demo profile on loopback, how to open the platform to the network', () => {
    expect(log.lines.filter((l) => String(l.msg).startsWith('listening on this machine only'))).toEqual([
      expect.objectContaining({ msg: expect.stringMatching(/IOC_HTTP_HOST=0\.0\.0\.0 and IOC_MQTT_HOST=0\.0\.0\.0/) }),
    ]);
  });

  it('serves a replaced pair to new connections while an old connection stays up', async () => {
    const original = fingerprint(readFileSync(tls.files.cert, 'utf8'));
    expect(await servedFingerprint('127.0.0.1', port(p.mqttsUrl!), tls.ca)).toBe(original);
    const old = await mqtt.connectAsync(p.mqttsUrl!, {
      reconnectPeriod: 0,
      ca: tls.ca,
      rejectUnauthorized: true,
      username: 'air-ngomon',
      password: p.devicePassword('air-ngomon'),
      clientId: 'air-ngomon-old',
    });
    try {
      const renewed = await makeServerCert(ca, ['renewed.example.vn']);
      replace(tls.files.key, renewed.key);
      replace(tls.files.cert, renewed.cert);
      await until(
        async () => (await servedFingerprint('127.0.0.1', port(p.mqttsUrl!), tls.ca)) === fingerprint(renewed.cert),
      );
      expect(await servedFingerprint('127.0.0.1', port(p.httpUrl), tls.ca)).toBe(fingerprint(renewed.cert));
      // the connection made before the swap keeps its session and still gets its PUBACKs
      expect(old.connected).toBe(true);
      await publishAcked(old, 'ioc/air/air-ngomon/readings', JSON.stringify({ pm25: 20 }));
      expect(
        (old.stream as unknown as { getPeerCertificate(): { fingerprint256: string } }).getPeerCertificate()
          .fingerprint256,
      ).toBe(original);
      expect(log.lines.filter((l) => l.msg === 'TLS certificate reloaded: new connections use it')).toHaveLength(1);
    } finally {
      await old.endAsync();
    }
  });

  it('keeps the pair in service when new files do not match, logs one error, takes the next good pair', async () => {
    const serving = await servedFingerprint('127.0.0.1', port(p.mqttsUrl!), tls.ca);
    const other = await makeServerCert(ca, []);
    // a certificate without its key (the renewal wrote only half), and the same again: one error, not two
    replace(tls.files.cert, other.cert);
    await until(() => log.lines.some((l) => l.msg?.toString().startsWith('TLS certificate not reloaded')));
    replace(tls.files.cert, `${other.cert}\n`);
    await new Promise((r) => setTimeout(r, 600)); // past the settle delay: a second error would be logged by now
    const errors = log.lines.filter((l) => l.msg?.toString().startsWith('TLS certificate not reloaded'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ level: 50, err: expect.stringMatching(/is not the key of the certificate/) });
    expect(await servedFingerprint('127.0.0.1', port(p.mqttsUrl!), tls.ca)).toBe(serving);
    expect(await servedFingerprint('127.0.0.1', port(p.httpUrl), tls.ca)).toBe(serving);
    const metrics = await httpsCall(`${p.httpUrl}/metrics`, tls.ca, { token: p.operatorToken });
    expect(metrics.text).toMatch(/^ioc_tls_reloads_total\{result="failed"\} 1$/m);

    replace(tls.files.key, other.key);
    await until(
      async () => (await servedFingerprint('127.0.0.1', port(p.mqttsUrl!), tls.ca)) === fingerprint(other.cert),
    );
  });
});
