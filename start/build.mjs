// @ts-check
// `npm run build` (and npm's `prepare`, so `npm install` / `npm ci` leave a current build): esbuild bundles the
// platform into dist/, which `npm start` runs with `node --enable-source-maps dist/main.js`. Plain JavaScript:
// it runs before anything is compiled.
import { readFileSync, rmSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = join(ROOT, 'dist');

/**
 * Packages loaded from node_modules at run time rather than bundled: those that need files beside themselves
 * (a native addon, a binary, static files or a worker script found through __dirname or import.meta.url) and
 * those loaded only on some configurations. Bundling the rest (pure JavaScript) spares Node resolving and
 * compiling ~670 package files one by one at every start.
 */
const EXTERNAL = [
  'better-sqlite3', // a native addon (the embedded store's worker)
  '@node-rs/argon2', // a native addon (password hashing)
  'esbuild', // runs its platform binary (the console's build)
  '@fastify/swagger-ui', // serves the files of its static/ folder, found through __dirname
  'pino', // starts transports (pino-pretty) as worker files found through __dirname
  'pino-pretty',
  'thread-stream',
  'node-cron', // its background task is a file found through import.meta.url
  'mqtt', // the demo fleet's clients, loaded after ready
  '@influxdata/influxdb-client', // the InfluxDB store only
  'ioredis', // the cluster's Redis only
  'aedes-persistence-redis',
  'mqemitter-redis',
  'selfsigned', // development certificates only
];

// a package that reads files beside itself cannot be bundled: built, __dirname is undefined and import.meta.url
// names dist/main.js. Such a package goes in EXTERNAL; the build fails rather than the platform at run time.
const LOCATES_ITSELF = /(?<![.\w$])(__dirname|__filename)(?![\w$])|\bimport\.meta\.(url|dirname|filename)\b/;
/** Bundled package files that name __dirname where it does no harm, each read and explained. */
const REVIEWED = new Map([
  // a default title and version for the OpenAPI document from its own package.json, inside try/catch;
  // api/openapi-conventions.ts gives both
  ['@fastify/swagger/lib/util/read-package-json.js', 'its own package.json, only when no info is given'],
  ['qlobber/lib/qlobber.js', 'only in a documentation comment'],
]);

/** Builds dist/ and returns what esbuild bundled (for the check above). */
export async function buildPlatform() {
  rmSync(OUT_DIR, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'main.ts', 'sqlite-worker': 'store/sqlite/sqlite-worker.ts' },
    outdir: OUT_DIR,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // modules imported with import() (loaded after ready or on first use) become files of their own, read then
    splitting: true,
    external: EXTERNAL,
    // the bundled CommonJS packages call require() for Node's built-ins: esbuild's documented shim for ESM output
    banner: {
      js: [
        "import { createRequire as __createRequire } from 'node:module';",
        'const require = __createRequire(import.meta.url);',
      ].join('\n'),
    },
    // stack traces name the .ts sources (node --enable-source-maps)
    sourcemap: 'linked',
    sourcesContent: false,
    // a third smaller, so less to read, decode and parse at every start; names stay, the source map has positions
    minifyWhitespace: true,
    metafile: true,
    logLevel: 'silent',
  });
  if (result.warnings.length) {
    const text = result.warnings.map((w) => `${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`);
    throw new Error(`esbuild warned:\n  ${text.join('\n  ')}`);
  }
  const packageFiles = Object.keys(result.metafile.inputs).filter((input) => input.includes('node_modules/'));
  const offenders = packageFiles.filter(
    (input) =>
      !REVIEWED.has(
        input
          .split(sep)
          .join('/')
          .replace(/^.*node_modules\//, ''),
      ) && LOCATES_ITSELF.test(readFileSync(join(ROOT, input), 'utf8')),
  );
  if (offenders.length) {
    throw new Error(
      'bundled package files find files beside themselves (add their package to EXTERNAL in start/build.mjs):\n  ' +
        offenders.join('\n  '),
    );
  }
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  try {
    const result = await buildPlatform();
    const outputs = Object.entries(result.metafile.outputs).filter(([file]) => !file.endsWith('.map'));
    const kb = Math.round(outputs.reduce((sum, [, o]) => sum + o.bytes, 0) / 1024);
    const ms = Math.round(performance.now() - started);
    console.log(`build: ${relative(ROOT, OUT_DIR)}/ (${outputs.length} files, ${kb} KB) in ${ms} ms`);
  } catch (err) {
    console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
