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
  it('initialises a production data directory once and rotates single secrets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-cli-creds-'));
    try {
      const first = capture();
      expect(await runCli(['credentials', 'init', '--data-dir', dir], first.io)).toBe(0);
      expect(first.out.join('\n')).toMatch(/operator token: \S{40,}/);
      expect(statSync(join(dir, 'auth.json')).mode & 0o777).toBe(0o600);
      const again = capture();
      expect(await runCli(['credentials', 'init', '--data-dir', dir], again.io)).toBe(1);
      expect(again.err.join('\n')).toMatch(/exists already/);
      const before = readFileSync(join(dir, 'auth.json'), 'utf8');
      const rotated = capture();
      expect(await runCli(['credentials', 'device', 'air-ngomon', '--data-dir', dir], rotated.io)).toBe(0);
      expect(rotated.out[0]).toMatch(/^\S{40,}$/);
      expect(readFileSync(join(dir, 'auth.json'), 'utf8')).not.toBe(before);
      expect(await runCli(['credentials', 'token', 'root', '--data-dir', dir], capture().io)).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
