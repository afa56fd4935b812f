import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCity } from '../../config/city-config.ts';
import { initCredentials, rotateSecret } from '../../config/credentials.ts';
import { loadPlatformConfig } from '../../config/platform-config.ts';
import type { CliCommand } from '../cli-command.ts';

const USAGE = `usage:
  ioc credentials init [--data-dir DIR] [--config FILE]      create device passwords and operator/admin tokens
  ioc credentials device SENSOR_ID [--data-dir DIR]           new password for one device
  ioc credentials token operator|admin [--data-dir DIR]       new operator or admin token
Secrets are printed once; the platform keeps only their hashes (<dataDir>/auth.json).`;

export const credentialsCommand: CliCommand = {
  name: 'credentials',
  summary: 'create or rotate device passwords and operator tokens',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options: { 'data-dir': { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean' } } });
    const [action, target] = positionals;
    if (values.help || !action) {
      io.out(USAGE);
      return values.help ? 0 : 2;
    }
    const config = loadPlatformConfig({ env: { ...process.env, ...(values.config ? { IOC_CONFIG: values.config } : {}) } });
    const dataDir = values['data-dir'] ? resolve(values['data-dir']) : config.dataDir;
    if (action === 'init') {
      const city = loadCity(config.cityFile, config.kindsDir);
      const created = initCredentials(dataDir, city);
      io.out(`operator token: ${created.operator.token}\nadmin token:    ${created.admin.token}`);
      io.out(`${created.devices.length} device passwords written with the tokens to ${dataDir}/credentials.json (mode 0600). Move that file somewhere safe.`);
      return 0;
    }
    if (action === 'device' && target) {
      io.out(rotateSecret(dataDir, { device: target }));
      return 0;
    }
    if (action === 'token' && (target === 'operator' || target === 'admin')) {
      io.out(rotateSecret(dataDir, { token: target }));
      return 0;
    }
    io.err(USAGE);
    return 2;
  },
};
