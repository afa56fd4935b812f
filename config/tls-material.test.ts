import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDevCa, makeServerCert, type PemPair } from '../cli/tls-dev-cert.ts';
import { ConfigError } from './config-error.ts';
import { loadTlsMaterial } from './tls-material.ts';

/** The checks a pair passes before any listener serves it, each failing with a message that names the file. */
describe('TLS material checks', () => {
  let dir: string;
  let ca: PemPair;
  let a: PemPair;
  let b: PemPair;
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ioc-tls-material-'));
    ca = await makeDevCa();
    [a, b] = await Promise.all([makeServerCert(ca, []), makeServerCert(ca, [])]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a matching pair and describes it', () => {
    const m = loadTlsMaterial(
      { cert: file('a.crt', a.cert), key: file('a.key', a.key), ca: file('ca.crt', ca.cert) },
      Date.now(),
    );
    expect(m.subject).toBe('CN=localhost');
    expect(m.notAfter).toBeGreaterThan(Date.now());
    expect(m.options.ca).toBe(ca.cert);
  });

  it('refuses a missing file, a key of another certificate, garbage and an expired or future certificate', () => {
    const cert = file('a.crt', a.cert);
    const key = file('a.key', a.key);
    const check =
      (files: { cert: string; key: string; ca?: string }, now = Date.now()) =>
      () =>
        loadTlsMaterial(files, now);
    expect(check({ cert: join(dir, 'nope.crt'), key })).toThrow(/tls\.cert: cannot read .*nope\.crt: ENOENT/);
    expect(check({ cert, key: file('b.key', b.key) })).toThrow(/tls\.key: .*b\.key is not the key of the certificate/);
    expect(check({ cert: file('junk.crt', 'hello'), key })).toThrow(/tls\.cert: .*junk\.crt is not a PEM certificate/);
    expect(check({ cert, key: file('junk.key', 'hello') })).toThrow(/tls\.key: .*junk\.key is not a PEM private key/);
    expect(check({ cert, key, ca: file('junk-ca.crt', 'hello') })).toThrow(/tls\.ca: .*is not a PEM certificate/);
    expect(check({ cert, key }, Date.now() + 500 * 86_400_000)).toThrow(/expired on/);
    expect(check({ cert, key }, Date.now() - 86_400_000)).toThrow(/is not valid before/);
    expect(check({ cert, key: file('b2.key', b.key) })).toThrow(ConfigError);
  });
});
