import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliCommand } from '../cli-command.ts';
import { writeDevCertificates } from '../tls-dev-cert.ts';

const USAGE = `usage:
  ioc tls dev-cert --out DIR [--host NAME ...] [--device SENSOR_ID ...] [--days N]
    a private CA (ca.crt, ca.key), a server pair signed by it (server.crt, server.key; valid for
    localhost, 127.0.0.1, ::1 and each --host) and a client certificate per --device (CN = sensor id).
    A CA already in DIR is reused, so devices added later chain to the CA the platform trusts.
    Files are written mode 0600. For trials: production certificates come from the city's own CA.`;

// a sensor id becomes a file name: no path separators, no dot files
const SENSOR_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const HOST = /^[A-Za-z0-9.:-]{1,253}$/;

export const tlsCommand: CliCommand = {
  name: 'tls',
  summary: 'make a self-signed CA, server and device certificates for trials',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        host: { type: 'string', multiple: true },
        device: { type: 'string', multiple: true },
        days: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (positionals[0] !== 'dev-cert' || positionals.length !== 1 || !values.out) {
      io.err(USAGE);
      return 2;
    }
    const hosts = values.host ?? [];
    const devices = values.device ?? [];
    const badHost = hosts.find((h) => !HOST.test(h));
    if (badHost !== undefined)
      return fail(io, `--host "${badHost.slice(0, 80)}": expected a DNS name or an IP address`);
    const badDevice = devices.find((d) => !SENSOR_ID.test(d));
    if (badDevice !== undefined)
      return fail(io, `--device "${badDevice.slice(0, 80)}": expected a sensor id (letters, digits, . _ -)`);
    const days = values.days === undefined ? undefined : Number(values.days);
    if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 3650))
      return fail(io, `--days "${values.days}": expected a whole number of days, 1 to 3650`);
    const dir = resolve(values.out);
    const result = await writeDevCertificates(dir, { hosts, devices, days });
    io.out(
      `${result.reusedCa ? 'reused the CA in' : 'new CA in'} ${dir}; ` +
        `wrote ${result.written.join(', ') || 'nothing'} (mode 0600)`,
    );
    io.out(
      [
        'Platform config:',
        '  tls:',
        `    cert: ${dir}/server.crt       # IOC_TLS_CERT`,
        `    key: ${dir}/server.key        # IOC_TLS_KEY`,
        `    ca: ${dir}/ca.crt             # IOC_TLS_CA: devices may log in with a certificate (CN = sensor id)`,
        `Clients trust ${dir}/ca.crt, e.g. mosquitto_pub --cafile ${dir}/ca.crt -p 8883 ...` +
          (devices.length ? ` --cert ${dir}/device-${devices[0]}.crt --key ${dir}/device-${devices[0]}.key` : ''),
      ].join('\n'),
    );
    return 0;
  },
};

function fail(io: { err(text: string): void }, message: string): number {
  io.err(`ioc tls dev-cert: ${message}`);
  return 2;
}
