import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../ioc.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

describe('ioc credentials', () => {
  it('initialises a production data directory once with the admin account, and rotates single secrets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-cli-creds-'));
    try {
      const first = capture();
      expect(await runCli(['credentials', 'init', '--data-dir', dir], first.io)).toBe(0);
      expect(first.out.join('\n')).toMatch(/admin password: \S{16,}/);
      expect(first.out.join('\n')).toMatch(/admin token: +[0-9a-f]{12}\.\S{40,}/);
      expect(statSync(join(dir, 'auth.json')).mode & 0o777).toBe(0o600);
      const auth = JSON.parse(readFileSync(join(dir, 'auth.json'), 'utf8')) as {
        accounts: Array<{ name: string; role: string; password: string }>;
      };
      expect(auth.accounts.map((a) => [a.name, a.role])).toEqual([['admin', 'admin']]);
      expect(auth.accounts[0]!.password).toMatch(/^\$argon2id\$/);
      expect(readFileSync(join(dir, 'auth.json'), 'utf8')).not.toContain(first.out[0]!.split('\n')[1]!.split(': ')[1]);
      const again = capture();
      expect(await runCli(['credentials', 'init', '--data-dir', dir], again.io)).toBe(1);
      expect(again.err.join('\n')).toMatch(/exists already/);
      const before = readFileSync(join(dir, 'auth.json'), 'utf8');
      const rotated = capture();
      expect(await runCli(['credentials', 'device', 'air-ngomon', '--data-dir', dir], rotated.io)).toBe(0);
      expect(rotated.out[0]).toMatch(/^\S{40,}$/);
      expect(readFileSync(join(dir, 'auth.json'), 'utf8')).not.toBe(before);
      const token = capture();
      expect(await runCli(['credentials', 'token', 'admin', '--name', 'grafana', '--data-dir', dir], token.io)).toBe(0);
      expect(token.out[0]).toMatch(/^[0-9a-f]{12}\.\S{40,}$/);
      expect(await runCli(['credentials', 'token', 'root', '--data-dir', dir], capture().io)).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to make a secret for a sensor the city does not have, and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-cli-creds-'));
    try {
      expect(await runCli(['credentials', 'init', '--data-dir', dir], capture().io)).toBe(0);
      const before = readFileSync(join(dir, 'auth.json'), 'utf8');
      for (const id of ['no-such-sensor', 'constructor', '__proto__']) {
        const unknown = capture();
        expect(await runCli(['credentials', 'device', id, '--data-dir', dir], unknown.io)).toBe(1);
        expect(unknown.err.join('\n')).toMatch(/no sensor/);
        expect(unknown.out).toEqual([]);
      }
      expect(readFileSync(join(dir, 'auth.json'), 'utf8')).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
