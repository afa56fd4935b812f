import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/**
 * Certificates for trials: a private CA, a server pair signed by it (SANs: localhost, 127.0.0.1, ::1 and
 * the hosts asked for), and device client certificates (CN = sensor id) signed by the same CA. Clients
 * trust ca.crt; the platform serves server.crt/server.key and verifies devices with ca.crt. EC P-256:
 * fast to make and to handshake. Not for production: the CA key sits beside the certificates.
 */
export interface PemPair {
  cert: string;
  key: string;
}

const DAY = 86_400_000;
const validity = (days: number) => ({
  notBeforeDate: new Date(Date.now() - 60_000),
  notAfterDate: new Date(Date.now() + days * DAY),
});

export async function makeDevCa(days = 825): Promise<PemPair> {
  // a name of its own: OpenSSL finds an issuer by name, so two trial CAs must not share one
  const ca = await generate(
    [
      { name: 'commonName', value: `IOC development CA ${randomBytes(4).toString('hex')}` },
      { name: 'organizationName', value: 'IOC platform (trial)' },
    ],
    {
      keyType: 'ec',
      algorithm: 'sha256',
      ...validity(days),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      ],
    },
  );
  return { cert: ca.cert, key: ca.private };
}

export async function makeServerCert(ca: PemPair, hosts: readonly string[], days = 397): Promise<PemPair> {
  const names = [...new Set(['localhost', '127.0.0.1', '::1', ...hosts])];
  const altNames = names.map((h) => (isIP(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h }));
  const pair = await generate([{ name: 'commonName', value: hosts[0] ?? 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca,
    ...validity(days),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: pair.cert, key: pair.private };
}

export async function makeDeviceCert(ca: PemPair, sensorId: string, days = 397): Promise<PemPair> {
  const pair = await generate([{ name: 'commonName', value: sensorId }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca,
    ...validity(days),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  return { cert: pair.cert, key: pair.private };
}

/** Writes a file readable by its owner only (a key, and the rest alike so one umask never leaks one). */
export function writePrivate(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its mode on write
}

export interface DevCertResult {
  written: string[];
  reusedCa: boolean;
}

/**
 * `ioc tls dev-cert`: in `dir`, reuses ca.crt/ca.key when present (so devices added later chain to the CA
 * the platform already trusts), makes the server pair when it is missing or hosts are given, and one
 * device-<id>.crt/.key per device.
 */
export async function writeDevCertificates(
  dir: string,
  options: { hosts?: readonly string[]; devices?: readonly string[]; days?: number } = {},
): Promise<DevCertResult> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  const put = (name: string, text: string) => {
    writePrivate(join(dir, name), text);
    written.push(name);
  };
  const caFiles = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  const reusedCa = existsSync(caFiles.cert) && existsSync(caFiles.key);
  let ca: PemPair;
  if (reusedCa) {
    ca = { cert: readFileSync(caFiles.cert, 'utf8'), key: readFileSync(caFiles.key, 'utf8') };
  } else {
    ca = await makeDevCa();
    put('ca.crt', ca.cert);
    put('ca.key', ca.key);
  }
  const hosts = options.hosts ?? [];
  if (!reusedCa || hosts.length > 0 || !existsSync(join(dir, 'server.crt'))) {
    const server = await makeServerCert(ca, hosts, options.days);
    // key first: a platform watching this folder sees a matching pair once the certificate lands
    put('server.key', server.key);
    put('server.crt', server.cert);
  }
  for (const id of options.devices ?? []) {
    const device = await makeDeviceCert(ca, id, options.days);
    put(`device-${id}.key`, device.key);
    put(`device-${id}.crt`, device.cert);
  }
  return { written, reusedCa };
}
