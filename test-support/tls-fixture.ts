import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { writeDevCertificates } from '../cli/tls-dev-cert.ts';

/**
 * Certificates for TLS tests, made by the same code as `ioc tls dev-cert` in a temp folder, and small
 * clients that trust only that CA (rejectUnauthorized stays on: a test passes only over verified TLS).
 */
export interface TlsFixture {
  readonly dir: string;
  readonly files: { cert: string; key: string; ca: string };
  readonly ca: string;
  device(sensorId: string): { cert: string; key: string };
  remove(): void;
}

export async function makeTlsFixture(devices: readonly string[] = []): Promise<TlsFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-tls-'));
  await writeDevCertificates(dir, { devices });
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    dir,
    files: { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ca: join(dir, 'ca.crt') },
    ca: read('ca.crt'),
    device: (id) => ({ cert: read(`device-${id}.crt`), key: read(`device-${id}.key`) }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** An HTTPS request that trusts only `ca`. */
export function httpsCall(
  url: string,
  ca: string,
  options: { method?: string; token?: string; body?: unknown } = {},
): Promise<{ status: number; json: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = httpsRequest(
      url,
      {
        method: options.method ?? 'GET',
        ca,
        rejectUnauthorized: true,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The SHA-256 fingerprint of the certificate a TLS listener serves to a new connection. */
export function servedFingerprint(host: string, port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, ca, servername: 'localhost', rejectUnauthorized: true }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

/** A pino logger whose lines a test can read (level info and up). */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: process.env.CAPTURE_LEVEL ?? 'info' }, sink), lines };
}
