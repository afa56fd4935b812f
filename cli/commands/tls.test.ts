import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTlsMaterial } from '../../config/tls-material.ts';
import { runCli } from '../ioc.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

describe('ioc tls dev-cert', () => {
  it('makes a CA, a server pair for the hosts and a device cert, all 0600, that the platform accepts', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ioc-cli-tls-'));
    const dir = join(root, 'tls');
    try {
      const run = capture();
      expect(
        await runCli(
          [
            'tls',
            'dev-cert',
            '--out',
            dir,
            '--host',
            'ioc.hue.example.vn',
            '--host',
            '10.20.0.5',
            '--device',
            'air-ngomon',
          ],
          run.io,
        ),
      ).toBe(0);
      expect(run.out.join('\n')).toMatch(/cert: .*server\.crt/);
      expect(readdirSync(dir).sort()).toEqual([
        'ca.crt',
        'ca.key',
        'device-air-ngomon.crt',
        'device-air-ngomon.key',
        'server.crt',
        'server.key',
      ]);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
      const ca = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
      const server = new X509Certificate(readFileSync(join(dir, 'server.crt')));
      const device = new X509Certificate(readFileSync(join(dir, 'device-air-ngomon.crt')));
      expect(ca.ca).toBe(true);
      expect(server.verify(ca.publicKey) && device.verify(ca.publicKey)).toBe(true);
      expect(server.subjectAltName).toMatch(
        /DNS:localhost.*IP Address:127\.0\.0\.1.*DNS:ioc\.hue\.example\.vn.*IP Address:10\.20\.0\.5/,
      );
      expect(server.checkHost('ioc.hue.example.vn')).toBe('ioc.hue.example.vn');
      expect(device.subject).toBe('CN=air-ngomon');
      expect(() =>
        loadTlsMaterial(
          { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ca: join(dir, 'ca.crt') },
          Date.now(),
        ),
      ).not.toThrow();

      // a second run adds a device under the same CA and leaves the server pair alone
      const serverBefore = readFileSync(join(dir, 'server.crt'), 'utf8');
      const again = capture();
      expect(await runCli(['tls', 'dev-cert', '--out', dir, '--device', 'water-kimlong'], again.io)).toBe(0);
      expect(again.out[0]).toMatch(/^reused the CA in .*; wrote device-water-kimlong\.key, device-water-kimlong\.crt/);
      expect(readFileSync(join(dir, 'server.crt'), 'utf8')).toBe(serverBefore);
      expect(new X509Certificate(readFileSync(join(dir, 'device-water-kimlong.crt'))).verify(ca.publicKey)).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a device id that is not a plain name, and usage errors, writing nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ioc-cli-tls-'));
    try {
      const bad = capture();
      expect(await runCli(['tls', 'dev-cert', '--out', join(root, 'x'), '--device', '../../etc/evil'], bad.io)).toBe(2);
      expect(bad.err.join('\n')).toMatch(/--device "\.\.\/\.\.\/etc\/evil": expected a sensor id/);
      expect(existsSync(join(root, 'x'))).toBe(false);
      expect(await runCli(['tls', 'dev-cert', '--out', join(root, 'x'), '--days', '0'], capture().io)).toBe(2);
      expect(await runCli(['tls', 'dev-cert'], capture().io)).toBe(2);
      expect(await runCli(['tls', 'renew', '--out', root], capture().io)).toBe(2);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
