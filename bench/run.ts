import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `npm run bench -- <name> [options]`: runs bench/<name>-bench.ts or bench/<name>.ts. */
const dir = fileURLToPath(new URL('.', import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(dir)
  .filter(
    (f) =>
      f.endsWith('.ts') &&
      f !== 'run.ts' &&
      f !== 'mqtt-load.ts' &&
      f !== 'hostile-load.ts' &&
      f !== 'mqtt-subscriber.ts' &&
      f !== 'load-process.ts' &&
      f !== 'bench-platform.ts' &&
      f !== 'bench-stats.ts' &&
      f !== 'node-red-flow.ts',
  )
  .map((f) => f.replace(/(-bench)?\.ts$/, ''));
const file = [`${name}-bench.ts`, `${name}.ts`].map((f) => `${dir}${f}`).find((f) => name && existsSync(f));
if (!file) {
  console.error(`usage: npm run bench -- <name> [options]\navailable: ${available.join(', ')}`);
  process.exit(2);
}
process.argv = [process.argv[0]!, file, ...rest];
await import(file);
