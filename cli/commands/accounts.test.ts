import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { runCli } from '../ioc.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

type Auth = { accounts: Array<{ name: string; role: string; disabled: boolean; password?: string }> };
const readAuth = (dir: string): Auth => JSON.parse(readFileSync(join(dir, 'auth.json'), 'utf8')) as Auth;

describe('ioc accounts', () => {
  it('adds, lists, disables, resets and re-roles accounts in a data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-cli-accounts-'));
    try {
      expect(await runCli(['credentials', 'init', '--data-dir', dir], capture().io)).toBe(0);
      const added = capture();
      expect(await runCli(['accounts', 'add', 'nguyen.an', '--role', 'operator', '--data-dir', dir], added.io)).toBe(0);
      const password = /password: (\S+)/.exec(added.out.join('\n'))![1]!;
      const an = readAuth(dir).accounts.find((a) => a.name === 'nguyen.an')!;
      expect(an).toMatchObject({ role: 'operator', disabled: false });
      expect(await verify(an.password!, password)).toBe(true);
      expect(readFileSync(join(dir, 'auth.json'), 'utf8')).not.toContain(password);

      const dup = capture();
      expect(await runCli(['accounts', 'add', 'nguyen.an', '--role', 'viewer', '--data-dir', dir], dup.io)).toBe(1);
      expect(dup.err.join('\n')).toMatch(/exists already/);
      expect(await runCli(['accounts', 'add', 'Bad Name', '--role', 'viewer', '--data-dir', dir], capture().io)).toBe(
        1,
      );
      expect(await runCli(['accounts', 'add', 'tran.binh', '--data-dir', dir], capture().io)).toBe(2);

      expect(await runCli(['accounts', 'disable', 'nguyen.an', '--data-dir', dir], capture().io)).toBe(0);
      expect(readAuth(dir).accounts.find((a) => a.name === 'nguyen.an')!.disabled).toBe(true);
      const reset = capture();
      expect(await runCli(['accounts', 'reset', 'nguyen.an', '--data-dir', dir], reset.io)).toBe(0);
      const fresh = /: (\S+)$/.exec(reset.out[0]!)![1]!;
      expect(await verify(readAuth(dir).accounts.find((a) => a.name === 'nguyen.an')!.password!, fresh)).toBe(true);
      expect(await runCli(['accounts', 'role', 'nguyen.an', 'viewer', '--data-dir', dir], capture().io)).toBe(0);

      const list = capture();
      expect(await runCli(['accounts', 'list', '--data-dir', dir], list.io)).toBe(0);
      expect(list.out.join('\n')).toMatch(/nguyen\.an\s+viewer\s+disabled/);
      expect(list.out.join('\n')).toMatch(/admin\s+admin\s+enabled/);

      // nobody could manage accounts any more: refused, nothing changed
      const before = readFileSync(join(dir, 'auth.json'), 'utf8');
      const last = capture();
      expect(await runCli(['accounts', 'disable', 'admin', '--data-dir', dir], last.io)).toBe(1);
      expect(last.err.join('\n')).toMatch(/last enabled admin/);
      expect(await runCli(['accounts', 'disable', 'constructor', '--data-dir', dir], capture().io)).toBe(1);
      expect(readFileSync(join(dir, 'auth.json'), 'utf8')).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an account named like a sensor, its prefix or it followed by more; auth.json unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-cli-accounts-'));
    try {
      expect(await runCli(['credentials', 'init', '--data-dir', dir], capture().io)).toBe(0);
      const before = readFileSync(join(dir, 'auth.json'), 'utf8');
      for (const name of ['water-kimlong', 'water-kim', 'water-kimlong-ops']) {
        const refused = capture();
        expect(await runCli(['accounts', 'add', name, '--role', 'operator', '--data-dir', dir], refused.io)).toBe(1);
        expect(refused.err.join('\n')).toMatch(/sensor water-kimlong: MQTT clientIds are scoped by these names/);
        expect(refused.out.join('\n')).not.toMatch(/password/);
      }
      expect(readFileSync(join(dir, 'auth.json'), 'utf8')).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
