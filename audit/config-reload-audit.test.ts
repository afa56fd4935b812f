import { X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeServerCert } from '../cli/tls-dev-cert.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { makeTlsFixture, type TlsFixture } from '../test-support/tls-fixture.ts';
import { auditDirOf } from './audit-files.ts';
import { queryAudit } from './audit-query.ts';

/** A configuration reload while running (new TLS files on disk) is an audit entry, failed ones too. */
describe('configuration reloads in the audit log', () => {
  let tls: TlsFixture;
  let p: TestPlatform;
  const replace = (file: string, text: string) => {
    writeFileSync(`${file}.new`, text, { mode: 0o600 });
    renameSync(`${file}.new`, file);
  };
  const reloads = async () => {
    await p.audit.idle();
    return queryAudit(auditDirOf(p.dataDir), { action: ['config.reload'] }, 100).entries.reverse();
  };
  /** the file watcher is asynchronous: ask until it happened (the test timeout bounds it) */
  const until = async (check: () => Promise<boolean>) => {
    while (!(await check())) await new Promise((r) => setTimeout(r, 50));
  };

  beforeAll(async () => {
    tls = await makeTlsFixture();
    p = await startTestPlatform({ overrides: { tls: { cert: tls.files.cert, key: tls.files.key, mqttPort: 0 } } });
  });
  afterAll(async () => {
    await p?.stop();
    tls?.remove();
  });

  it('records a renewed certificate with its fingerprint, and a refused pair as a failure', async () => {
    const ca = { cert: tls.ca, key: readFileSync(join(tls.dir, 'ca.key'), 'utf8') };
    const renewed = await makeServerCert(ca, ['renewed.example.vn']);
    replace(tls.files.key, renewed.key);
    replace(tls.files.cert, renewed.cert);
    await until(async () => (await reloads()).length === 1);
    expect((await reloads())[0]).toMatchObject({
      actor: { name: 'platform', role: 'system' },
      target: 'tls',
      outcome: 'success',
      details: { fingerprint256: new X509Certificate(renewed.cert).fingerprint256, notAfter: expect.any(String) },
    });

    const other = await makeServerCert(ca, []);
    replace(tls.files.cert, other.cert); // without its key: refused, the renewed pair stays
    await until(async () => (await reloads()).length === 2);
    expect((await reloads())[1]).toMatchObject({
      target: 'tls',
      outcome: 'failure',
      details: { kept: 'the previous certificate' },
    });
  }, 60_000);
});
