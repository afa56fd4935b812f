import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.ts';
import { serverProcess } from './server-process.ts';

/**
 * Debian's HAProxy running the repository's own deploy/haproxy.cfg, templated with test ports: its binds
 * on 127.0.0.1 free ports, its two example servers per backend replaced by the given nodes. Tests thus
 * check the shipped file, not a copy of it.
 */
export interface HaproxyNode {
  name: string;
  mqttPort: number;
  httpPort: number;
}

export interface Haproxy {
  readonly mqttUrl: string;
  readonly httpUrl: string;
  dispose(): Promise<void>;
}

export const HAPROXY_BINARY = '/usr/sbin/haproxy';
/**
 * HAProxy connects to the nodes from this address (`source` on each server line), as a balancer on its own
 * host would: the nodes trust it (mqtt/http.trustedProxies) and not the test's clients on 127.0.0.1 or .2.
 */
export const HAPROXY_SOURCE_ADDRESS = '127.0.0.3';
const SHIPPED = fileURLToPath(new URL('../deploy/haproxy.cfg', import.meta.url));

/** deploy/haproxy.cfg with these listen ports and nodes (throws if the file no longer has the expected shape). */
export function templateHaproxyConfig(
  ports: { mqtt: number; mqtts: number; http: number },
  nodes: readonly HaproxyNode[],
): string {
  let text = readFileSync(SHIPPED, 'utf8');
  const replace = (pattern: RegExp, by: string) => {
    if (!pattern.test(text)) throw new Error(`deploy/haproxy.cfg has no line like ${pattern}`);
    text = text.replace(pattern, by);
  };
  // a test runs unprivileged: HAProxy cannot raise its file limit to 2 x 100,000 connections as root does
  replace(/^(\s*maxconn) \d+$/m, '$1 4000');
  replace(/bind :1883\b/, `bind 127.0.0.1:${ports.mqtt}`);
  replace(/bind :8883\b/, `bind 127.0.0.1:${ports.mqtts}`);
  replace(/bind :8080\b/, `bind 127.0.0.1:${ports.http}`);
  // each generated server line keeps the options of the shipped one (send-proxy-v2, check), with test ports
  const serverLines = (backend: string, shipped: string) => {
    const options = /^\s*server\s+\S+\s+\S+\s*(.*)$/.exec(shipped)?.[1] ?? '';
    return nodes.map((n) => {
      const opts = options.replace(/\bport \d+\b/, `port ${n.httpPort}`);
      // the test nodes have no MQTTS listener: their plain MQTT port stands in for it
      const port = backend.startsWith('http_') ? n.httpPort : n.mqttPort;
      return `    server ${n.name} 127.0.0.1:${port} ${opts} source ${HAPROXY_SOURCE_ADDRESS}`;
    });
  };
  // each backend's example `server` lines give way to the nodes, at the place of the first one
  let backend = '';
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const opened = /^backend (\S+)/.exec(line)?.[1];
    if (opened) backend = opened;
    if (!/^\s*server /.test(line)) out.push(line);
    else if (backend) {
      out.push(...serverLines(backend, line));
      backend = '';
    }
  }
  text = out.join('\n');
  for (const name of ['mqtt_nodes', 'mqtts_nodes', 'http_nodes', 'http_ingest_nodes']) {
    if (!text.includes(`backend ${name}`)) throw new Error(`deploy/haproxy.cfg has no backend ${name}`);
  }
  return text;
}

export async function startHaproxy(nodes: readonly HaproxyNode[]): Promise<Haproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-haproxy-'));
  const ports = { mqtt: await freePort(), mqtts: await freePort(), http: await freePort() };
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, templateHaproxyConfig(ports, nodes));
  const httpUrl = `http://127.0.0.1:${ports.http}`;
  const server = serverProcess({
    name: `haproxy on ${httpUrl}`,
    binary: HAPROXY_BINARY,
    // -db: in the foreground, so the test owns the process; -W would fork a worker it does not know
    args: ['-db', '-f', file],
    install: 'apt-get install -y haproxy',
    // ready once a node answers through it
    ready: async () => (await fetch(`${httpUrl}/api/health`)).status === 200,
  });
  await server.start();
  return {
    mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
    httpUrl,
    dispose: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
