import { describe, expect, it } from 'vitest';
import { runCli } from '../ioc.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

// Only the refusals run in-process: a start that succeeds runs until a signal (cluster/workers.test.ts
// starts the platform with workers as a process).
describe('ioc start', () => {
  it('refuses an unknown argument with its usage, before anything starts', async () => {
    const c = capture();
    expect(await runCli(['start', '--wokers', '2'], c.io)).toBe(2);
    expect(c.err.join('\n')).toMatch(/unknown argument --wokers 2[\s\S]*usage: ioc start \[--workers N\|auto\]/);
  });

  it('refuses a malformed worker count, naming the accepted forms', async () => {
    const c = capture();
    expect(await runCli(['start', '--workers', '0'], c.io)).toBe(1);
    expect(c.err.join('\n')).toMatch(/--workers: a number from 1 to 256 or "auto" \(got "0"\)/);
  });

  it('says what --workers does in its help', async () => {
    const c = capture();
    expect(await runCli(['start', '--help'], c.io)).toBe(0);
    expect(c.out.join('\n')).toMatch(/cluster\.redis and store\.engine: influxdb/);
  });
});
