import { ConfigError } from './config/config-error.ts';
import { onStopFromPrimary } from './cluster/workers-plan.ts';
import { superviseWorkersIfAsked } from './cluster/workers-primary.ts';
import type { Platform } from './platform.ts';

/** Entry point: start the platform, print first-start credentials once, stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  // cluster.workers / --workers: this process only supervises the workers (cluster/workers-primary.ts)
  if (await superviseWorkersIfAsked(process.argv.slice(2))) return;
  // A signal during start-up (a supervisor stopping a slow start) is answered once the platform is up, with
  // the same clean shutdown; a second one exits at once.
  let platform: Platform | undefined;
  let stopping = false;
  let requested: string | undefined;
  const stop = (signal: string) => {
    if (stopping || (requested && !platform)) {
      process.stderr.write(`ioc: ${signal} again: exiting now\n`);
      process.exit(1);
    }
    if (!platform) {
      requested = signal;
      process.stderr.write(`ioc: ${signal} received while starting: stopping once started\n`);
      return;
    }
    stopping = true;
    platform.logger.info(`${signal} received`);
    platform.close().then(
      () => process.exit(0),
      (err: Error) => {
        platform?.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  onStopFromPrimary(() => stopping || requested || stop('SIGTERM'));

  // loaded only here, so a workers' primary never loads the platform
  const { startPlatform } = await import('./platform.ts');
  platform = await startPlatform();
  if (requested) return stop(requested);
  const creds = platform.credentials;
  if (creds && platform.config.profile === 'demo' && Date.now() - Date.parse(creds.createdAt) < 60_000) {
    process.stdout.write(
      [
        '',
        '  Credentials generated for this data directory (shown once; the platform keeps only hashes):',
        '    console sign-in (username / password), and an API token for tools (Authorization: Bearer):',
        ...[creds.viewer, creds.operator, creds.admin]
          .filter((p) => p !== undefined)
          .map((p) => `    ${p.username.padEnd(9)}: ${p.password}   token ${p.token}`),
        `    ${creds.devices.length} device passwords (username = sensor id)`,
        `  Saved to ${platform.credentialsFile} (mode 0600).`,
        `  Console: ${platform.httpUrl}/   API docs: ${platform.httpUrl}/docs`,
        '',
        '',
      ].join('\n'),
    );
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`ioc: cannot start: ${err.message}\n`);
  } else if (err instanceof Error && 'code' in err && err.code === 'EADDRINUSE') {
    process.stderr.write(
      `ioc: cannot start: ${err.message}. Another process holds the ` +
        'port; set IOC_MQTT_PORT / IOC_HTTP_PORT / IOC_TLS_MQTT_PORT.\n',
    );
  } else {
    process.stderr.write(`ioc: cannot start: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
  process.exit(1);
});
