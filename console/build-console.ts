import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { build } from 'esbuild';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

export const CONSOLE_DIR = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_DIST_DIR = join(CONSOLE_DIR, 'dist');

export interface ConsoleAsset {
  /** URL path, e.g. "/assets/main-3F2A.js" or "/" */
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly br: Buffer;
  readonly etag: string;
  /** hashed file names never change content: cache for a year */
  readonly immutable: boolean;
}

export interface ConsoleBundle {
  readonly assets: ReadonlyMap<string, ConsoleAsset>;
  /** gzipped bytes of every JavaScript file a browser loads (the 300 KB budget) */
  readonly jsGzipBytes: number;
  readonly buildMs: number;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

async function makeAsset(path: string, body: Buffer, immutable: boolean): Promise<ConsoleAsset> {
  const ext = path === '/' ? '.html' : path.slice(path.lastIndexOf('.'));
  const compressible = ext !== '.png';
  const [gz, br] = compressible ? await Promise.all([
    gzipAsync(body, { level: 9 }),
    // quality 9, not 11: 6 % larger (78 vs 73 KB for the script) but ~0.2 s instead of ~1.8 s at start
    brotliAsync(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
  ]) : [body, body];
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { path, contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream', body, gzip: gz, br, etag, immutable };
}

/**
 * Bundles console/src with esbuild (a few hundred milliseconds), fingerprints the files, and
 * precompresses them, so requests are served from memory with no work per request.
 */
export async function buildConsole(options: { minify?: boolean } = {}): Promise<ConsoleBundle> {
  const started = performance.now();
  const result = await build({
    entryPoints: [join(CONSOLE_DIR, 'src', 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome109', 'edge109', 'firefox115', 'safari15.4'],
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    outdir: join(CONSOLE_DIR, 'dist', 'assets'),
    loader: { '.png': 'file', '.svg': 'file' },
    write: false,
    logLevel: 'silent',
  });
  const files = result.outputFiles.map((file) => ({ name: basename(file.path), body: Buffer.from(file.contents) }));
  const js = files.find((f) => f.name.endsWith('.js'));
  const css = files.find((f) => f.name.endsWith('.css'));
  if (!js || !css) throw new Error('console build produced no script or stylesheet');
  const template = await readFile(join(CONSOLE_DIR, 'index.html'), 'utf8');
  const html = template.replace('{{js}}', js.name).replace('{{css}}', css.name);
  const assets = await Promise.all([
    makeAsset('/', Buffer.from(html), false),
    ...files.map((f) => makeAsset(`/assets/${f.name}`, f.body, true)),
  ]);
  const jsGzipBytes = assets.filter((a) => a.path.endsWith('.js')).reduce((sum, a) => sum + a.gzip.length, 0);
  return { assets: new Map(assets.map((a) => [a.path, a])), jsGzipBytes, buildMs: performance.now() - started };
}

/**
 * Writes the bundle to console/dist (index.html, assets/ and their .gz/.br twins) for inspection and for
 * serving by a reverse proxy. Each file is written to a temporary name and renamed, so platforms
 * starting side by side never see a half-written file.
 */
export async function writeConsoleBundle(bundle: ConsoleBundle, distDir: string = DEFAULT_DIST_DIR): Promise<void> {
  const assetsDir = join(distDir, 'assets');
  await mkdir(assetsDir, { recursive: true });
  const keep = new Set<string>();
  const tmpSuffix = `.tmp-${process.pid}-${Date.now()}`;
  for (const asset of bundle.assets.values()) {
    const file = asset.path === '/' ? join(distDir, 'index.html') : join(distDir, asset.path);
    for (const [suffix, data] of [['', asset.body], ['.gz', asset.gzip], ['.br', asset.br]] as const) {
      keep.add(basename(file) + suffix);
      await writeFile(file + suffix + tmpSuffix, data);
      await rename(file + suffix + tmpSuffix, file + suffix);
    }
  }
  for (const name of await readdir(assetsDir)) {
    if (!keep.has(name) && !name.includes('.tmp-')) await rm(join(assetsDir, name), { force: true });
  }
}

// `npm run console:build` / `tsx console/build-console.ts`: build and report sizes.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bundle = await buildConsole();
  await writeConsoleBundle(bundle);
  for (const asset of bundle.assets.values()) {
    console.log(`${asset.path.padEnd(36)} ${String(asset.body.length).padStart(8)} B  gzip ${String(asset.gzip.length).padStart(7)} B  br ${String(asset.br.length).padStart(7)} B`);
  }
  console.log(`JavaScript gzipped: ${(bundle.jsGzipBytes / 1024).toFixed(1)} KB (budget 300 KB); built in ${bundle.buildMs.toFixed(0)} ms`);
}
