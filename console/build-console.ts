import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { projectPath } from '../core/project-root.ts';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { build, version as esbuildVersion, type BuildOptions } from 'esbuild';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

// found from the project root: built, this module is part of dist/main.js
export const CONSOLE_DIR = projectPath('console');
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

/**
 * Build options and the page template live in this module (not beside it on disk), and both are part of
 * the source fingerprint: a platform still running older code beside a newer checkout can then never
 * label its output with the newer fingerprint.
 */
const BUILD_OPTIONS = {
  bundle: true,
  format: 'esm',
  // the sign-in screen is a small entry; the console (Leaflet, uPlot) is a chunk loaded after it
  splitting: true,
  platform: 'browser',
  target: ['chrome109', 'edge109', 'firefox115', 'safari15.4'],
  sourcemap: false,
  legalComments: 'none',
  entryNames: '[name]-[hash]',
  metafile: true,
  assetNames: '[name]-[hash]',
  loader: { '.png': 'file', '.svg': 'file' },
  logLevel: 'silent',
} as const satisfies BuildOptions;

const INDEX_TEMPLATE = `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>IOC</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/{{css}}">
<script type="module" src="/assets/{{js}}"></script>
{{preloads}}
</head>
<body>
<div id="app"></div>
<noscript>Bảng điều hành IOC cần JavaScript. / The IOC console needs JavaScript.</noscript>
</body>
</html>
`;

async function makeAsset(path: string, body: Buffer, immutable: boolean): Promise<ConsoleAsset> {
  const ext = path === '/' ? '.html' : path.slice(path.lastIndexOf('.'));
  const compressible = ext !== '.png';
  const [gz, br] = compressible
    ? await Promise.all([
        gzipAsync(body, { level: 9 }),
        // quality 9, not 11: 6 % larger (78 vs 73 KB for the script) but ~0.2 s instead of ~1.8 s at start
        brotliAsync(body, {
          params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length },
        }),
      ])
    : [body, body];
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { path, contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream', body, gzip: gz, br, etag, immutable };
}

/**
 * Bundles console/src with esbuild (a few hundred milliseconds), fingerprints the files, and
 * precompresses them (brotli, gzip) at build time, so serving them is only reading a file.
 */
export async function buildConsole(options: { minify?: boolean } = {}): Promise<ConsoleBundle> {
  const started = performance.now();
  const result = await build({
    ...BUILD_OPTIONS,
    entryPoints: [join(CONSOLE_DIR, 'src', 'main.ts')],
    minify: options.minify ?? true,
    outdir: join(CONSOLE_DIR, 'dist', 'assets'),
    write: false,
  });
  const files = result.outputFiles.map((file) => ({ name: basename(file.path), body: Buffer.from(file.contents) }));
  const js = files.find((f) => f.name.startsWith('main-') && f.name.endsWith('.js'));
  const css = files.find((f) => f.name.startsWith('main-') && f.name.endsWith('.css'));
  if (!js || !css) throw new Error('console build produced no script or stylesheet');
  // chunks the entry imports statically: preload them with it instead of discovering them after it ran
  const entryMeta = Object.entries(result.metafile.outputs).find(([path]) => basename(path) === js.name)?.[1];
  const preloads = (entryMeta?.imports ?? [])
    .filter((i) => i.kind === 'import-statement')
    .map((i) => `<link rel="modulepreload" href="/assets/${basename(i.path)}">`)
    .join('\n');
  const html = INDEX_TEMPLATE.replace('{{js}}', js.name).replace('{{css}}', css.name).replace('{{preloads}}', preloads);
  const assets = await Promise.all([
    makeAsset('/', Buffer.from(html), false),
    ...files.map((f) => makeAsset(`/assets/${f.name}`, f.body, true)),
  ]);
  const jsGzipBytes = assets.filter((a) => a.path.endsWith('.js')).reduce((sum, a) => sum + a.gzip.length, 0);
  return { assets: new Map(assets.map((a) => [a.path, a])), jsGzipBytes, buildMs: performance.now() - started };
}

const ROOT_DIR = join(CONSOLE_DIR, '..');
const MANIFEST = 'manifest.json';

interface Manifest {
  sourceHash: string;
  jsGzipBytes: number;
  buildMs: number;
  assets: { path: string; file: string; contentType: string; etag: string; immutable: boolean }[];
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out.sort();
}

/**
 * A fingerprint of everything the bundle is made from: the console's sources and translations, the
 * shared files it imports, the build script, and the versions of esbuild, Leaflet and uPlot.
 */
export async function consoleSourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const files = [
    ...(await listFiles(join(CONSOLE_DIR, 'src'))),
    ...(await listFiles(join(CONSOLE_DIR, 'i18n'))),
    join(ROOT_DIR, 'config', 'reference', 'vn-aqi.json'),
    join(ROOT_DIR, 'alerts', 'alert-model.ts'),
    join(ROOT_DIR, 'node_modules', 'leaflet', 'package.json'),
    join(ROOT_DIR, 'node_modules', 'uplot', 'package.json'),
  ];
  hash.update(esbuildVersion);
  hash.update(JSON.stringify(BUILD_OPTIONS));
  hash.update(INDEX_TEMPLATE);
  for (const file of files) {
    hash.update(relative(ROOT_DIR, file));
    hash.update(await readFile(file));
  }
  return hash.digest('hex');
}

/**
 * Writes the bundle to console/dist (index.html, assets/ and their .gz/.br twins, then manifest.json) so
 * the next start reuses it, and a reverse proxy may serve it. Each file is written to a temporary name
 * and renamed, so platforms starting side by side (tests) never read a half-written file.
 */
export async function writeConsoleBundle(
  bundle: ConsoleBundle,
  sourceHash: string,
  distDir: string = DEFAULT_DIST_DIR,
): Promise<void> {
  const assetsDir = join(distDir, 'assets');
  await mkdir(assetsDir, { recursive: true });
  const keep = new Set<string>();
  const tmpSuffix = `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const put = async (file: string, data: Buffer | string) => {
    await writeFile(file + tmpSuffix, data);
    await rename(file + tmpSuffix, file);
  };
  const manifest: Manifest = { sourceHash, jsGzipBytes: bundle.jsGzipBytes, buildMs: bundle.buildMs, assets: [] };
  for (const asset of bundle.assets.values()) {
    const file = asset.path === '/' ? 'index.html' : asset.path.slice(1);
    manifest.assets.push({
      path: asset.path,
      file,
      contentType: asset.contentType,
      etag: asset.etag,
      immutable: asset.immutable,
    });
    for (const [suffix, data] of [
      ['', asset.body],
      ['.gz', asset.gzip],
      ['.br', asset.br],
    ] as const) {
      keep.add(basename(file) + suffix);
      await put(join(distDir, file + suffix), data);
    }
  }
  await put(join(distDir, MANIFEST), JSON.stringify(manifest, null, 1));
  for (const name of await readdir(assetsDir)) {
    if (!keep.has(name) && !name.includes('.tmp-')) await rm(join(assetsDir, name), { force: true });
  }
}

/** The bundle in console/dist when it was built from exactly these sources, else undefined. */
export async function readConsoleBundle(
  sourceHash: string,
  distDir: string = DEFAULT_DIST_DIR,
): Promise<ConsoleBundle | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(distDir, MANIFEST), 'utf8')) as Manifest;
    if (manifest.sourceHash !== sourceHash) return undefined;
    const assets = await Promise.all(
      manifest.assets.map(async (a): Promise<ConsoleAsset> => {
        const file = join(distDir, a.file);
        const [body, gz, br] = await Promise.all([readFile(file), readFile(`${file}.gz`), readFile(`${file}.br`)]);
        return { path: a.path, contentType: a.contentType, etag: a.etag, immutable: a.immutable, body, gzip: gz, br };
      }),
    );
    const byPath = new Map(assets.map((a) => [a.path, a]));
    if (byPath.get('/')?.body.includes('{{')) return undefined; // a template left unfilled: never serve it
    return { assets: byPath, jsGzipBytes: manifest.jsGzipBytes, buildMs: manifest.buildMs };
  } catch {
    return undefined; // missing, partial or from another version: build anew
  }
}

/** A bundle and the folder its files (with their .gz/.br twins) are served from. */
export interface LoadedConsole extends ConsoleBundle {
  readonly dir: string;
  /** true when console/dist was reused as it was */
  readonly cached: boolean;
  /** true when `dir` is a temporary folder of this process (console/dist was not writable) */
  readonly temporary: boolean;
}

/** Writes a bundle to a new temporary folder: for a read-only install, or a bundle built for one app. */
export async function writeConsoleBundleToTemp(bundle: ConsoleBundle, sourceHash: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ioc-console-'));
  await writeConsoleBundle(bundle, sourceHash, dir);
  return dir;
}

/**
 * What the platform calls at start: reuse console/dist when its sources are unchanged (a few
 * milliseconds), else bundle (under a second) and write it back. A read-only install still serves,
 * from a temporary folder.
 */
export async function loadConsoleBundle(onWriteError?: (err: Error) => void): Promise<LoadedConsole> {
  const sourceHash = await consoleSourceHash();
  const cached = await readConsoleBundle(sourceHash);
  if (cached) return { ...cached, dir: DEFAULT_DIST_DIR, cached: true, temporary: false };
  const bundle = await buildConsole();
  try {
    await writeConsoleBundle(bundle, sourceHash);
    return { ...bundle, dir: DEFAULT_DIST_DIR, cached: false, temporary: false };
  } catch (err) {
    onWriteError?.(err as Error);
    return { ...bundle, dir: await writeConsoleBundleToTemp(bundle, sourceHash), cached: false, temporary: true };
  }
}

// `tsx console/build-console.ts` (part of `npm run build`): build and report sizes.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void (async () => {
    const bundle = await buildConsole();
    await writeConsoleBundle(bundle, await consoleSourceHash());
    for (const asset of bundle.assets.values()) {
      console.log(
        `${asset.path.padEnd(36)} ${String(asset.body.length).padStart(8)} B  ` +
          `gzip ${String(asset.gzip.length).padStart(7)} B  br ${String(asset.br.length).padStart(7)} B`,
      );
    }
    console.log(
      `JavaScript gzipped: ${(bundle.jsGzipBytes / 1024).toFixed(1)} KB (budget 300 KB); built ` +
        `in ${bundle.buildMs.toFixed(0)} ms`,
    );
  })();
}
