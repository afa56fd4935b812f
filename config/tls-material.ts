import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from './config-error.ts';
import type { TlsFiles } from './tls-config.ts';

/**
 * A certificate, its key and the optional client CA read from the files `tls:` names, checked before any
 * listener uses them: the files parse, the key belongs to the certificate, the certificate is valid now,
 * and Node builds a secure context from them. A pair that fails any check is never served: at start the
 * platform refuses to start, on reload the old pair stays (config/tls-reloader.ts).
 */
export interface TlsMaterial {
  readonly options: SecureContextOptions & { cert: string; key: string; ca?: string };
  readonly subject: string;
  readonly fingerprint256: string;
  /** epoch ms */
  readonly notAfter: number;
  /** sha256 of the three files, to tell a real change from a touch */
  readonly digest: string;
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `tls.${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export function loadTlsMaterial(tls: Pick<TlsFiles, 'cert' | 'key' | 'ca'>, now: number): TlsMaterial {
  const cert = readPem(tls.cert, 'cert');
  const key = readPem(tls.key, 'key');
  const ca = tls.ca ? readPem(tls.ca, 'ca') : undefined;
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new ConfigError(`tls.cert: ${tls.cert} is not a PEM certificate (${(err as Error).message})`);
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new ConfigError(
      `tls.key: ${tls.key} is not a PEM private key (${(err as Error).message}; an encrypted key is not supported)`,
    );
  }
  if (!matches)
    throw new ConfigError(
      `tls.key: ${tls.key} is not the key of the certificate ${tls.cert} (${x509.subject.replace(/\n/g, ', ')})`,
    );
  const notBefore = Date.parse(x509.validFrom);
  const notAfter = Date.parse(x509.validTo);
  if (now < notBefore)
    throw new ConfigError(`tls.cert: ${tls.cert} is not valid before ${new Date(notBefore).toISOString()}`);
  if (now > notAfter) throw new ConfigError(`tls.cert: ${tls.cert} expired on ${new Date(notAfter).toISOString()}`);
  if (ca) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw new ConfigError(`tls.ca: ${tls.ca} is not a PEM certificate (${(err as Error).message})`);
    }
  }
  const options = { cert, key, ...(ca ? { ca } : {}) };
  try {
    createSecureContext(options);
  } catch (err) {
    throw new ConfigError(`tls: Node cannot use ${tls.cert} with ${tls.key}: ${(err as Error).message}`);
  }
  const digest = createHash('sha256')
    .update(cert)
    .update('\0')
    .update(key)
    .update('\0')
    .update(ca ?? '')
    .digest('hex');
  return { options, subject: x509.subject.replace(/\n/g, ', '), fingerprint256: x509.fingerprint256, notAfter, digest };
}
