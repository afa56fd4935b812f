// `npm start`. Plain JavaScript: it must run before anything is compiled.
import { runBundle } from './run-bundle.mjs';
import { buildServerBundle, currentServerBundle } from './server-bundle.mjs';

// The start bundle (server-bundle.mjs), built first when it is missing or any file it was made from has
// changed; if it cannot be built, the sources through tsx as before: slower, never broken.
let bundle = currentServerBundle();
if (!bundle) {
  try {
    bundle = await buildServerBundle();
  } catch (err) {
    process.stderr.write(
      `ioc: could not build the start bundle, starting from the sources (slower): ${err instanceof Error ? err.message : String(err)}\n`,
    );
  }
}
if (bundle) {
  runBundle(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../main.ts');
}
