import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.ts';

/**
 * A close that another close or a read overtakes must still settle. The worker link used to drop its
 * 'exit' listener (what rejects calls in flight) before terminating the thread, so a call posted while a
 * close was under way was never answered: a test's afterEach closing a store that its timed-out restart
 * was closing hung in SqliteStore.close (issue 15 item 2, the alert service split's "restart hang").
 */
describe('embedded store close', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-sqlite-close-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const overtakers: Array<[string, () => Promise<unknown>]> = [
    ['in the same turn', async () => undefined],
    ['one turn later', () => nextTurn()],
    [
      'once the readers have answered their close',
      () =>
        nextTurn()
          .then(() => nextTurn())
          .then(() => nextTurn()),
    ],
  ];

  it.each(overtakers)(
    'a second close and a read started %s settle: closes resolve, the read fails',
    async (name, wait) => {
      const store = await SqliteStore.open(join(dir, `${name.replaceAll(' ', '-')}.sqlite`), { readers: 1 });
      await store.write([{ measurement: 'air', tags: { sensorId: 's1' }, fields: { pm25: 12 }, ts: 1 }]);
      const first = store.close();
      await wait();
      const second = store.close();
      // its outcome is taken at once: it may fail before the closes finish
      const read = store.latest({}).then(
        () => 'answered',
        (err: Error) => err.message,
      );
      await expect(first).resolves.toBeUndefined();
      await expect(second).resolves.toBeUndefined();
      expect(await read).toMatch(/closed|not open/);
      await expect(store.queryPoints({ measurement: 'air', from: 0, to: 2 })).rejects.toThrow(/closed/);
    },
  );
});
