/**
 * The CAP feed pollers of bench/cap-pollers-bench.ts, as their own process (so their parsing and buffers
 * do not share the platform's event loop): `pollers` loops that GET the feed every `intervalMs` (0: back
 * to back), half of them revalidating with If-None-Match as well-behaved aggregators do, half fetching the
 * whole document each time. Prints {"acked": requests, "seconds", "bytes", "notModified"}.
 * Input (argv[2], JSON): { url, pollers, seconds, intervalMs, conditional? ('half' by default, 'all', 'none') }
 */
interface Input {
  url: string;
  pollers: number;
  seconds: number;
  intervalMs: number;
  conditional?: 'half' | 'all' | 'none';
}
const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started = Date.now();
const end = started + input.seconds * 1000;
let requests = 0;
let bytes = 0;
let wireBytes = 0;
let notModified = 0;

async function poller(i: number): Promise<void> {
  let etag: string | null = null;
  const conditional = input.conditional === 'all' || (input.conditional !== 'none' && i % 2 === 0);
  await sleep((i * input.intervalMs) / Math.max(1, input.pollers)); // spread, as independent pollers are
  while (Date.now() < end) {
    const t0 = Date.now();
    const headers: Record<string, string> = conditional && etag ? { 'if-none-match': etag } : {};
    const res: Response = await fetch(input.url, { headers });
    const body = await res.arrayBuffer();
    requests++;
    bytes += body.byteLength;
    // fetch decodes gzip/br itself; the body as sent is what Content-Length said
    wireBytes += Number(res.headers.get('content-length') ?? body.byteLength);
    if (res.status === 304) notModified++;
    etag = res.headers.get('etag');
    const wait = input.intervalMs - (Date.now() - t0);
    if (wait > 0) await sleep(wait);
  }
}

await Promise.all(Array.from({ length: input.pollers }, (_, i) => poller(i)));
console.log(JSON.stringify({ acked: requests, seconds: (Date.now() - started) / 1000, bytes, wireBytes, notModified }));
