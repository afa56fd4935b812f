import { TLSSocket } from 'node:tls';

/**
 * Device login by client certificate (MQTT over TLS with `tls.ca`): a device whose certificate was signed
 * by the configured CA, with its sensor id as the subject CN, is that device without a password. The TLS
 * handshake already proved it holds the key; here the CN is checked against the city's sensors.
 *
 * `none` (not TLS, or no certificate presented: operators, integrations, devices with passwords) leaves the
 * decision to the password check.
 */
export type CertificateLogin =
  | { readonly outcome: 'none' }
  | { readonly outcome: 'device'; readonly sensorId: string; readonly validFrom: number }
  | { readonly outcome: 'refused'; readonly reason: string };

const NONE: CertificateLogin = { outcome: 'none' };

export function certificateLogin(
  conn: unknown,
  username: string | undefined,
  isSensor: (id: string) => boolean,
): CertificateLogin {
  if (!(conn instanceof TLSSocket)) return NONE;
  const cert = conn.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return NONE;
  // requestCert without rejectUnauthorized lets an untrusted certificate through the handshake: refuse it here
  if (!conn.authorized)
    return {
      outcome: 'refused',
      reason: `client certificate not trusted (${String(conn.authorizationError ?? 'unknown issuer')})`,
    };
  const cn: unknown = cert.subject?.CN;
  if (typeof cn !== 'string' || cn === '')
    return { outcome: 'refused', reason: 'client certificate has no single subject CN' };
  const shown = cn.slice(0, 64);
  if (!isSensor(cn)) return { outcome: 'refused', reason: `client certificate CN "${shown}" is not a known sensor` };
  if (username && username !== cn)
    return {
      outcome: 'refused',
      reason: `username "${username.slice(0, 64)}" does not match the client certificate CN "${shown}"`,
    };
  return { outcome: 'device', sensorId: cn, validFrom: Date.parse(cert.valid_from) };
}
