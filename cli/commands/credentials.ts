import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCity } from '../../config/city-config.ts';
import { createToken, revokeToken, rotateDevice } from '../../config/accounts/account-changes.ts';
import { updateAuthFile } from '../../config/accounts/auth-file.ts';
import { initCredentials } from '../../config/credentials.ts';
import { loadPlatformConfig } from '../../config/platform-config.ts';
import { recordCliChange } from '../../audit/cli-changes.ts';
import type { CliCommand } from '../cli-command.ts';
import { sensorKnown } from '../sensor-registry-access.ts';

const USAGE = `usage:
  ioc credentials init [--data-dir DIR] [--config FILE]      create the admin account and every device's secret
  ioc credentials device SENSOR_ID [--data-dir DIR]           new secret for one device (the old one stops at once)
  ioc credentials token ACCOUNT [--name NAME] [--data-dir DIR]
                                                              new API token for an account (replaces one of that name)
Secrets are printed once; the platform keeps only their hashes (<dataDir>/auth.json) and picks changes up
without a restart, closing the connections of a replaced secret.`;

export const credentialsCommand: CliCommand = {
  name: 'credentials',
  summary: 'create or rotate device secrets and API tokens',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        config: { type: 'string' },
        name: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
    const [action, target] = positionals;
    if (values.help || !action) {
      io.out(USAGE);
      return values.help ? 0 : 2;
    }
    const config = loadPlatformConfig({
      env: { ...process.env, ...(values.config ? { IOC_CONFIG: values.config } : {}) },
    });
    const dataDir = values['data-dir'] ? resolve(values['data-dir']) : config.dataDir;
    if (action === 'init') {
      const city = loadCity(config.cityFile, config.kindsDir);
      const created = initCredentials(dataDir, city);
      recordCliChange(dataDir, {
        action: 'credentials.init',
        details: { admin: created.admin.username, devices: created.devices.length },
      });
      io.out(
        `admin account: ${created.admin.username}\nadmin password: ${created.admin.password}\n` +
          `admin token:    ${created.admin.token}`,
      );
      io.out(
        `${created.devices.length} device secrets written with these to ${created.credentialsFile} (mode ` +
          '0600). Move that file somewhere safe.',
      );
      io.out('Add a personal account for each operator: ioc accounts add NAME --role viewer|operator|admin');
      return 0;
    }
    if (action === 'device' && target) {
      // the registry decides which sensors exist once the platform made one (a deleted sensor gets no secret)
      if (!sensorKnown(config, dataDir, target)) {
        io.err(`ioc credentials: no sensor "${target.slice(0, 64)}" in the device registry of ${dataDir}`);
        return 1;
      }
      io.out(updateAuthFile(dataDir, (auth) => rotateDevice(auth, target, true)));
      recordCliChange(dataDir, { action: 'device.secret_rotate', target, details: { after: { secret: 'replaced' } } });
      return 0;
    }
    if (action === 'token' && target) {
      const name = values.name ?? 'cli';
      const now = new Date();
      const created = updateAuthFile(dataDir, (auth) => {
        if (auth.tokens.some((t) => t.account === target && t.name === name)) revokeToken(auth, target, name);
        return createToken(auth, target, name, null, now);
      });
      recordCliChange(dataDir, {
        action: 'token.create',
        target: `${target}/${name}`,
        details: { after: { name, expiresAt: null } },
      });
      io.out(created.token);
      return 0;
    }
    io.err(USAGE);
    return 2;
  },
};
