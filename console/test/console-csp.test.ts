import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';

/** The raw header lines of a GET over a real socket: fetch would join two policies into one string. */
function rawHeaders(url: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.rawHeaders));
    })
      .on('error', reject)
      .end();
  });
}

describe('the console page has exactly one content security policy', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it("sends helmet's policy once on /, the same as on /docs", async () => {
    const policies = async (path: string) => {
      const raw = await rawHeaders(`${platform.httpUrl}${path}`);
      const found: string[] = [];
      for (let i = 0; i < raw.length; i += 2)
        if (raw[i]!.toLowerCase() === 'content-security-policy') found.push(raw[i + 1]!);
      return found;
    };
    const page = await policies('/');
    expect(page).toHaveLength(1);
    for (const directive of [
      "script-src 'self'",
      "script-src-attr 'none'",
      "object-src 'none'",
      "connect-src 'self' ws: wss:",
      "frame-ancestors 'self'",
    ]) {
      expect(page[0]).toContain(directive);
    }
    expect(await policies('/docs/')).toEqual(page);
  });
});
