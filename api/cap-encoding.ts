import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

/**
 * The CAP feed is large (hundreds of KB of XML) and polled far more often than it changes, so its
 * compressed forms are made once per change, off the event loop (zlib runs in libuv's thread pool), and
 * each request only picks one by Accept-Encoding. Each form has its own strong ETag (a different
 * representation, RFC 9110 8.8.3), and answers carry `Vary: Accept-Encoding` for caches between.
 */
export type FeedEncoding = 'br' | 'gzip' | 'identity';

export interface EncodedVariants {
  readonly br: Buffer;
  readonly gzip: Buffer;
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

export async function encodeVariants(body: Buffer): Promise<EncodedVariants> {
  const [br, gz] = await Promise.all([
    // quality 5: close to the best ratio on XML at a small fraction of quality 11's time
    brotliAsync(body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
    }),
    gzipAsync(body, { level: 6 }),
  ]);
  return { br, gzip: gz };
}

/**
 * The coding to send: br, else gzip, when the client accepts it (a q of 0 refuses); identity otherwise.
 * Only what this feed offers is looked for, so the header is never fully parsed into objects.
 */
export function pickEncoding(acceptEncoding: string | string[] | undefined): FeedEncoding {
  if (acceptEncoding === undefined) return 'identity';
  const raw = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding;
  // clients send a handful of distinct headers, each on every poll: decide each once (bounded: callers choose)
  const known = picked.get(raw);
  if (known) return known;
  const header = raw.toLowerCase();
  const coding = accepts(header, 'br')
    ? 'br'
    : accepts(header, 'gzip') || accepts(header, 'x-gzip')
      ? 'gzip'
      : 'identity';
  if (picked.size >= 64) picked.clear();
  picked.set(raw, coding);
  return coding;
}

const picked = new Map<string, FeedEncoding>();

function accepts(header: string, coding: string): boolean {
  let star = false;
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = rawName!.trim();
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const ok = q === undefined || Number(q.slice(2)) > 0;
    if (name === coding) return ok; // named: its own q decides
    if (name === '*') star = ok;
  }
  return star;
}
