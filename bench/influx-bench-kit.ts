/**
 * What the benchmarks that write into a real influxd share: InfluxQL over HTTP, counting the readings a path
 * stored, the bench devices' readings as line protocol (the points the platform writes for them) and the raw
 * `/write` client that is their baseline.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function influxql(url: string, db: string, q: string): Promise<unknown> {
  const res = await fetch(`${url}/query?${new URLSearchParams({ db, epoch: 'ms' })}`, {
    method: 'POST',
    body: new URLSearchParams({ q }),
  });
  return res.json();
}

/** Readings (points of the "air" measurement) in `db`, counted by InfluxDB itself. */
export async function storedCount(url: string, db: string): Promise<number> {
  const answer = (await influxql(url, db, 'SELECT count("pm25") FROM "air"')) as {
    results: Array<{ series?: Array<{ values: number[][] }> }>;
  };
  return answer.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

/**
 * Polls until `db` holds `expected` readings, or until the count has not moved for `stallMs`; returns the
 * last count and when it last grew (epoch ms), so a path that loses readings still gets a rate for what it stored.
 */
export async function waitStored(
  url: string,
  db: string,
  expected: number,
  stallMs = 15_000,
): Promise<{ stored: number; at: number }> {
  let stored = await storedCount(url, db);
  let at = Date.now();
  while (stored < expected && Date.now() - at < stallMs) {
    await sleep(20);
    const now = await storedCount(url, db);
    if (now !== stored) [stored, at] = [now, Date.now()];
  }
  return { stored, at };
}

/** Reading `n` of bench device `device` (bench-air-N of the bench city) as the platform writes it. */
export function benchLine(device: number, n: number, base: number): string {
  return (
    `air,district=Phú\\ Xuân,kind=air,sensorId=bench-air-${device} no2=${n % 150},o3=${n % 90},pm10=` +
    `${(n % 400) + 1},pm25=${(n % 300) + 0.5} ${base + n}`
  );
}

/** POSTs the bodies `nextBody` gives (until it gives none) to /write, `parallel` requests in flight. */
export async function postLines(
  url: string,
  db: string,
  nextBody: () => string | undefined,
  parallel: number,
): Promise<void> {
  const worker = async () => {
    for (let body = nextBody(); body !== undefined; body = nextBody()) {
      const res = await fetch(`${url}/write?db=${db}&precision=ms`, { method: 'POST', body });
      if (res.status !== 204) throw new Error(`raw write failed: ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}
