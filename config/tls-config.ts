import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The `tls:` section. TLS is on when `cert` and `key` name files: MQTT over TLS listens on `mqttPort`, and
 * (unless `http: false`) the HTTP server becomes HTTPS, which makes /mqtt and the alert stream WSS. The
 * files are watched and reloaded without a restart (config/tls-reloader.ts).
 */
export const tlsSchema = z
  .object({
    // PEM files; relative paths resolve against the config file's folder
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    // PEM bundle of the CA(s) that sign device client certificates; without it no client certificate is asked for
    ca: z.string().min(1).optional(),
    mqttPort: z.number().int().min(0).max(65535).default(8883),
    // where MQTT over TLS listens; unset = mqtt.host
    mqttHost: z.string().min(1).optional(),
    // true: a client without a certificate signed by `ca` is refused during the handshake (MQTT over TLS only)
    requireClientCert: z.boolean().default(false),
    // false leaves the HTTP server plaintext, for a reverse proxy on the same host that terminates TLS
    http: z.boolean().default(true),
  })
  .strict()
  .superRefine((tls, ctx) => {
    if (Boolean(tls.cert) !== Boolean(tls.key)) {
      ctx.addIssue({
        code: 'custom',
        path: [tls.cert ? 'key' : 'cert'],
        message: 'tls.cert and tls.key go together (IOC_TLS_CERT, IOC_TLS_KEY)',
      });
    }
    if (tls.requireClientCert && !tls.ca) {
      ctx.addIssue({
        code: 'custom',
        path: ['requireClientCert'],
        message: 'requireClientCert needs tls.ca, the CA that signs the device certificates',
      });
    }
    if (tls.ca && !tls.cert) {
      ctx.addIssue({
        code: 'custom',
        path: ['ca'],
        message: 'tls.ca needs tls.cert and tls.key (client certificates are only asked for over TLS)',
      });
    }
  })
  .default({ mqttPort: 8883, requireClientCert: false, http: true });

export type TlsConfig = z.output<typeof tlsSchema>;

/** TLS is configured: a certificate and its key. */
export type TlsFiles = TlsConfig & { cert: string; key: string };

export function tlsEnabled(tls: TlsConfig): tls is TlsFiles {
  return Boolean(tls.cert && tls.key);
}

/** The same section with its file names made absolute against the config file's folder. */
export function resolveTlsPaths(tls: TlsConfig, base: string): TlsConfig {
  const abs = (file: string | undefined) => (file ? resolve(base, file) : undefined);
  return { ...tls, cert: abs(tls.cert), key: abs(tls.key), ca: abs(tls.ca) };
}
