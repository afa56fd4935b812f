// @ts-check
// Plain JavaScript: this runs before anything is compiled, so it cannot need a TypeScript loader itself.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The start bundle: what `npm start` runs. esbuild bundles main.ts and the packages it loads before the
 * platform is ready into one CommonJS file (dist/server/main.cjs), and the embedded store's worker into
 * another (sqlite-worker.cjs), with source maps. Loading one file instead of ~150 TypeScript modules through
 * tsx's loader hooks (and ~670 package files through Node's) is most of what makes the platform ready in
 * about a second.
 * dist/ is a cache of this checkout: build-info.json records every file the bundle was made from, and the
 * bundle is used only while all of them are unchanged. Tests and the CLI keep running the sources.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OUT_DIR = join(ROOT, 'dist', 'server');
const INFO_FILE = join(OUT_DIR, 'build-info.json');
const MAIN = 'main.cjs';
const WORKER = 'sqlite-worker.cjs';
const INFO_FORMAT = 1;

/** Packages left out of the bundle, loaded from node_modules at run time. */
const EXTERNAL = [
  'better-sqlite3', // a native addon
  '@node-rs/argon2', // a native addon (password hashing: config/accounts/secrets.ts)
  'esbuild', // runs its platform binary (the console build)
  'node-cron', // finds its background-task daemon file through import.meta.url, which a bundle does not keep
  'mqtt',
  '@influxdata/influxdb-client', // not on the way to ready: the demo fleet, the InfluxDB store
];

/**
 * Globals of the bundle. Code locates files beside itself: our modules with `new URL('../config/...',
 * import.meta.url)`, packages with __dirname (@fastify/swagger-ui its static files, pino's thread-stream its
 * worker). In the bundle each of these names its own source file or folder, relative to the bundle, so a moved
 * or copied checkout still works. IOC_SQLITE_WORKER tells store/sqlite/sqlite-store.ts where the compiled
 * worker is (from the sources it boots the .ts worker through tsx).
 */
const BANNER = [
  // first, or the bundle would run in sloppy mode: esbuild's own "use strict" comes after the banner
  '"use strict";',
  'var __iocSourcePath = (path) => require("node:path").join(__dirname, path);',
  'var __iocSourceUrl = (path) => require("node:url").pathToFileURL(__iocSourcePath(path)).href;',
  `var __iocSqliteWorker = __iocSourcePath(${JSON.stringify(WORKER)});`,
].join('\n');

/**
 * @param {string} outDir
 * @param {Set<string>} globDirs collects the folders of modules that import through a template literal
 *   (esbuild bundles every file there that matches): a file added there changes the bundle
 * @returns {import('esbuild').Plugin}
 */
const sourceLocations = (outDir, globDirs) => ({
  name: 'source-locations',
  setup(build) {
    /** @param {string} path */
    const fromOut = (path) => JSON.stringify(relative(outDir, path).split(sep).join('/'));
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (/\bimport\(\s*`/.test(text)) globDirs.add(relative(ROOT, dirname(args.path)).split(sep).join('/'));
      if (!text.includes('import.meta.url')) return undefined;
      return { contents: text.replaceAll('import.meta.url', `__iocSourceUrl(${fromOut(args.path)})`), loader: 'ts' };
    });
    // not after a dot (a property) nor inside a longer name; a package declaring its own __dirname would
    // turn into a syntax error here, and fail the build rather than read the wrong folder
    const dirname_ = /(?<![.\w$])__dirname(?![\w$])/g;
    const filename_ = /(?<![.\w$])__filename(?![\w$])/g;
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('__dirname') && !text.includes('__filename')) return undefined;
      return {
        contents: text
          .replace(dirname_, `__iocSourcePath(${fromOut(dirname(args.path))})`)
          .replace(filename_, `__iocSourcePath(${fromOut(args.path)})`),
        loader: 'js',
      };
    });
  },
});

/**
 * @typedef {{ format: number, files: Record<string, [number, number]>, dirs: Record<string, number> }} BuildInfo
 * files: path (relative to the checkout) -> [mtimeMs, size]; dirs: the folders a template-literal import
 * reads -> mtimeMs (a new *-simulator.ts changes it; other folders are not watched, since a start writes
 * console/dist, ./data and the like). An mtime of -1 never matches: rebuild next time.
 */

/** The bundle's entry when it was built from exactly the files now on disk, else undefined. A few ms. */
export function currentServerBundle() {
  /** @type {BuildInfo} */
  let info;
  try {
    info = JSON.parse(readFileSync(INFO_FILE, 'utf8'));
  } catch {
    return undefined;
  }
  if (info.format !== INFO_FORMAT) return undefined;
  for (const [file, [mtimeMs, size]] of Object.entries(info.files)) {
    const s = statSync(join(ROOT, file), { throwIfNoEntry: false });
    if (!s || s.mtimeMs !== mtimeMs || s.size !== size) return undefined;
  }
  for (const [dir, mtimeMs] of Object.entries(info.dirs)) {
    if (statSync(join(ROOT, dir), { throwIfNoEntry: false })?.mtimeMs !== mtimeMs) return undefined;
  }
  for (const out of [MAIN, WORKER]) if (!statSync(join(OUT_DIR, out), { throwIfNoEntry: false })) return undefined;
  return join(OUT_DIR, MAIN);
}

/**
 * Each file is written under a temporary name and renamed: a platform starting beside a build never reads
 * half a file.
 * @param {string} file
 * @param {string | Uint8Array} data
 */
function writeAtomically(file, data) {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/**
 * Builds the bundle into outDir (default dist/server) and returns its entry. Any esbuild warning fails the
 * build (for example an import.meta the plugin did not rewrite): better the slower start from the sources
 * than a bundle that behaves differently.
 * @param {{ outDir?: string }} [options]
 */
export async function buildServerBundle(options = {}) {
  const outDir = options.outDir ?? OUT_DIR;
  const { build } = await import('esbuild');
  /** @type {Set<string>} */
  const globDirs = new Set();
  const startedAt = Date.now();
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'main.ts', 'sqlite-worker': 'store/sqlite/sqlite-worker.ts' },
    outdir: outDir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: EXTERNAL,
    define: { IOC_SQLITE_WORKER: '__iocSqliteWorker' },
    banner: { js: BANNER },
    plugins: [sourceLocations(outDir, globDirs)],
    // stack traces name the .ts sources (run-bundle.mjs maps them), as under tsx
    sourcemap: 'linked',
    // a third smaller, so a little faster to load; names stay, and the source map gives the positions
    minifyWhitespace: true,
    sourcesContent: false,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  if (result.warnings.length) {
    const text = result.warnings
      .map((w) => `${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`)
      .join('\n  ');
    throw new Error(`esbuild warned:\n  ${text}`);
  }
  mkdirSync(outDir, { recursive: true });
  const written = new Set();
  for (const file of result.outputFiles) {
    writeAtomically(file.path, file.contents);
    written.add(relative(outDir, file.path));
  }

  /** @type {BuildInfo} */
  const info = { format: INFO_FORMAT, files: {}, dirs: {} };
  const inputs = [
    ...Object.keys(result.metafile.inputs),
    relative(ROOT, fileURLToPath(import.meta.url)), // the build's own options
    'node_modules/.package-lock.json', // npm rewrites it whenever it changes node_modules
  ];
  for (const input of inputs) {
    const s = statSync(join(ROOT, input), { throwIfNoEntry: false });
    if (!s?.isFile()) continue; // esbuild's own virtual modules
    const file = input.split(sep).join('/');
    // changed while esbuild was reading: the bundle may hold the old text, so this build is never current
    info.files[file] = [s.mtimeMs >= startedAt ? -1 : s.mtimeMs, s.size];
  }
  for (const dir of globDirs) {
    const { mtimeMs } = statSync(join(ROOT, dir));
    info.dirs[dir] = mtimeMs >= startedAt ? -1 : mtimeMs;
  }
  writeAtomically(join(outDir, 'build-info.json'), JSON.stringify(info));
  // older builds' output and code caches, and temporary files a crash left (not those being written now)
  for (const name of readdirSync(outDir)) {
    if (written.has(name) || name === 'build-info.json') continue;
    if (
      name.includes('.tmp-') &&
      (statSync(join(outDir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0) > Date.now() - 3_600_000
    )
      continue;
    rmSync(join(outDir, name), { force: true });
  }
  return join(outDir, MAIN);
}

// `node start/server-bundle.mjs` (npm's prepare step, so `npm install` leaves a current bundle): build it
// when it is not current. With --prepare a failure is reported, not fatal (npm start then runs the sources),
// and the console's bundle is made current too: a fresh clone's first start would otherwise build it before
// it is ready (about a second).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const prepare = process.argv.includes('--prepare');
  if (currentServerBundle()) {
    console.log(`start bundle: ${relative(ROOT, OUT_DIR)} is current`);
  } else {
    const started = performance.now();
    try {
      const entry = await buildServerBundle();
      console.log(
        `start bundle: ${relative(ROOT, entry)} (${Math.round(statSync(entry).size / 1024)} KB) built in ${Math.round(performance.now() - started)} ms`,
      );
    } catch (err) {
      console.error(
        `start bundle: not built (npm start will run the sources through tsx): ${err instanceof Error ? err.message : String(err)}`,
      );
      if (!prepare) process.exitCode = 1;
    }
  }
  if (prepare) {
    const { spawnSync } = await import('node:child_process');
    // run by a child node through tsx, which loads the TypeScript module
    const code = [
      "const { loadConsoleBundle } = await import('./console/build-console.ts');",
      'const b = await loadConsoleBundle();',
      "console.log(b.cached ? 'console: console/dist is current' : 'console: console/dist built in ' + Math.round(b.buildMs) + ' ms');",
    ].join(' ');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (run.status === 0) process.stdout.write(run.stdout);
    else
      console.error(
        `console: not built (npm start will build it): ${(run.stderr || run.stdout).trim().split('\n').slice(0, 3).join(' ')}`,
      );
  }
}
