// @ts-check
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, SourceMap } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

/**
 * Runs the start bundle as require() would, plus two things require() cannot do together on Node 20:
 *
 * - V8's code cache for it. Compiling the ~3 MB bundle and then, lazily, every function the start calls
 *   costs 0.1 to 0.25 s on this project's machines; with the cache written by an earlier start it is mostly
 *   gone. (Node 22's module.enableCompileCache does this for every module; Node 20 has
 *   nothing.) The cache is named after the bundle's size and mtime, so a rebuilt bundle never meets the
 *   cache of another one; V8 itself refuses a cache from another V8 version or other flags.
 * - Its source map, so error stacks name the .ts files and lines, as under tsx: Node applies source maps only
 *   to what its own loader compiled, so frames in the bundle are mapped here, when a stack is formatted.
 *
 * @param {string} file the bundle (CommonJS)
 */
export function runBundle(file) {
  const source = readFileSync(file, 'utf8');
  const { size, mtimeMs } = statSync(file);
  const cacheFile = `${file}.${size}-${Math.round(mtimeMs)}.v8cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // the wrapper on a line of its own (lineOffset -1): line and column numbers stay the bundle's
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {\n${source}\n})`, {
    filename: file,
    lineOffset: -1,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  mapStackTraces(file);
  if (!cachedData || script.cachedDataRejected) {
    // once started (about a second, or three on a busy machine), so the cache holds the functions the start
    // compiled on the way; at exit if that comes first
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      try {
        const tmp = `${cacheFile}.tmp-${process.pid}`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // a read-only install starts without the cache
      }
    };
    setTimeout(write, 3000).unref();
    process.once('exit', write);
    if (cachedData) rmSync(cacheFile, { force: true });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
}

/** @param {string} file */
function mapStackTraces(file) {
  /** @type {SourceMap | null | undefined} */
  let map;
  const mapFile = `${file}.map`;
  const loadMap = () => {
    try {
      map ??= new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')));
    } catch {
      map = null; // no map: frames keep the bundle's positions
    }
    return map;
  };
  /** @param {NodeJS.CallSite} site */
  const frame = (site) => {
    const text = site.toString();
    const line = site.getLineNumber();
    const column = site.getColumnNumber();
    if (site.getFileName() !== file || line === null || column === null || !loadMap()) return text;
    const entry = map?.findEntry(line - 1, column - 1);
    if (!entry || !('originalSource' in entry)) return text;
    const original = fileURLToPath(new URL(entry.originalSource, pathToFileURL(mapFile)));
    return text.replace(
      `${file}:${line}:${column}`,
      `${original}:${entry.originalLine + 1}:${entry.originalColumn + 1}`,
    );
  };
  Error.prepareStackTrace = (error, sites) => {
    let header;
    try {
      header = Error.prototype.toString.call(error);
    } catch {
      header = 'Error';
    }
    return header + sites.map((site) => `\n    at ${frame(site)}`).join('');
  };
}
