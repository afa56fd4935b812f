import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  addAccount,
  presentAccount,
  setDisabled,
  setPassword,
  setRole,
} from '../../config/accounts/account-changes.ts';
import {
  passwordSchema,
  readAuthFile,
  authFilePath,
  roleSchema,
  updateAuthFile,
} from '../../config/accounts/auth-file.ts';
import { hashPasswordSync, newSecret } from '../../config/accounts/secrets.ts';
import { loadCity } from '../../config/city-config.ts';
import { loadPlatformConfig } from '../../config/platform-config.ts';
import { recordCliChange } from '../../audit/cli-changes.ts';
import type { CliCommand } from '../cli-command.ts';

const USAGE = `usage:
  ioc accounts list [--data-dir DIR]
  ioc accounts add NAME --role viewer|operator|admin|integration [--data-dir DIR]   prints a generated password once
  ioc accounts disable NAME [--data-dir DIR]                            refused at once; live sessions closed
  ioc accounts enable NAME [--data-dir DIR]
  ioc accounts reset NAME [--data-dir DIR]                              new password, printed once; sessions end
  ioc accounts role NAME viewer|operator|admin [--data-dir DIR]
Works on the data directory's auth.json; a running platform picks the change up without a restart.
Passwords are generated (never typed on a command line, where the shell history would keep them).`;

/** A generated password: 20 characters of base64url, ~120 bits. */
const generatePassword = (): string => newSecret().slice(0, 20);

export const accountsCommand: CliCommand = {
  name: 'accounts',
  summary: "people's accounts: add, disable, reset a password, change a role, list",
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        config: { type: 'string' },
        role: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
    const [action, name, extra] = positionals;
    if (values.help || !action) {
      io.out(USAGE);
      return values.help ? 0 : 2;
    }
    const dataDir = values['data-dir']
      ? resolve(values['data-dir'])
      : loadPlatformConfig({ env: { ...process.env, ...(values.config ? { IOC_CONFIG: values.config } : {}) } })
          .dataDir;
    const now = new Date();
    if (action === 'list') {
      const auth = readAuthFile(authFilePath(dataDir));
      for (const a of auth.accounts.map((x) => presentAccount(x, auth.tokens))) {
        const tokens =
          a.tokens.map((t) => `${t.name}${t.expiresAt ? ` (until ${t.expiresAt})` : ''}`).join(', ') || '-';
        io.out(
          `${a.name.padEnd(20)} ${a.role.padEnd(9)} ${a.disabled ? 'disabled' : 'enabled '} ` +
            `password:${a.hasPassword ? 'yes' : 'no '} tokens: ${tokens}`,
        );
      }
      return 0;
    }
    if (!name) {
      io.err(USAGE);
      return 2;
    }
    if (action === 'add') {
      const role = roleSchema.safeParse(values.role);
      if (!role.success) {
        io.err('ioc accounts add: --role viewer|operator|admin|integration is required');
        return 2;
      }
      const password = generatePassword();
      passwordSchema.parse(password);
      // the city's sensor ids besides the devices in auth.json: an account may not be named like one
      const config = loadPlatformConfig({
        env: { ...process.env, ...(values.config ? { IOC_CONFIG: values.config } : {}) },
      });
      const sensorIds = loadCity(config.cityFile, config.kindsDir).sensorsById.keys();
      updateAuthFile(dataDir, (auth) =>
        addAccount(auth, { name, role: role.data, passwordHash: hashPasswordSync(password) }, now, sensorIds),
      );
      recordCliChange(dataDir, {
        action: 'account.create',
        target: name,
        details: { after: { role: role.data, disabled: false, hasPassword: true } },
      });
      io.out(`account ${name} (${role.data}) created\npassword: ${password}`);
      return 0;
    }
    if (action === 'disable' || action === 'enable') {
      const before = readAuthFile(authFilePath(dataDir)).accounts.find((a) => a.name === name)?.disabled;
      updateAuthFile(dataDir, (auth) => setDisabled(auth, name, action === 'disable'));
      recordCliChange(dataDir, {
        action: 'account.update',
        target: name,
        details: { before: { disabled: before ?? false }, after: { disabled: action === 'disable' } },
      });
      io.out(`account ${name} ${action}d`);
      return 0;
    }
    if (action === 'reset') {
      const password = generatePassword();
      updateAuthFile(dataDir, (auth) => setPassword(auth, name, hashPasswordSync(password), now));
      recordCliChange(dataDir, { action: 'account.password_reset', target: name });
      io.out(`new password for ${name}: ${password}`);
      return 0;
    }
    if (action === 'role') {
      const role = roleSchema.safeParse(extra ?? values.role);
      if (!role.success) {
        io.err('ioc accounts role NAME viewer|operator|admin');
        return 2;
      }
      const before = readAuthFile(authFilePath(dataDir)).accounts.find((a) => a.name === name)?.role;
      updateAuthFile(dataDir, (auth) => setRole(auth, name, role.data));
      recordCliChange(dataDir, {
        action: 'account.update',
        target: name,
        details: { before: { role: before }, after: { role: role.data } },
      });
      io.out(`account ${name} is now ${role.data}`);
      return 0;
    }
    io.err(USAGE);
    return 2;
  },
};
