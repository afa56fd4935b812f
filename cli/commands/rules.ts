import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { runBacktest } from '../../alerts/backtest.ts';
import { formatIssue, loadRuleFile } from '../../alerts/load-rules.ts';
import { loadCity, type City } from '../../config/city-config.ts';
import { loadPlatformConfig, type PlatformConfig } from '../../config/platform-config.ts';
import { openStore } from '../../store/open-store.ts';
import type { CliCommand, CliIo } from '../cli-command.ts';

/**
 * `ioc rules check FILE...` validates rule files like `promtool check rules` (errors name the file, the
 * rule and the field; exit 1 on any). `ioc rules backtest FILE --from --to` replays stored history
 * through the rules and prints what would have fired and when.
 */
const USAGE = `usage:
  ioc rules check FILE|DIR...                 validate rule files against the city's sensors
  ioc rules backtest FILE --from ISO --to ISO [--data-dir DIR] [--lang vi|en]
                                              replay stored history through the rules

The city and store come from the platform config (IOC_CONFIG, default config/default.yaml).`;

function expand(paths: readonly string[]): string[] {
  return paths.flatMap((p) => {
    if (existsSync(p) && statSync(p).isDirectory())
      return readdirSync(p)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => join(p, f));
    return [p];
  });
}

function loadSetup(dataDir?: string): { config: PlatformConfig; city: City } {
  const config = loadPlatformConfig(dataDir ? { overrides: { dataDir } } : {});
  return { config, city: loadCity(config.cityFile, config.kindsDir) };
}

async function check(args: readonly string[], io: CliIo): Promise<number> {
  if (args.length === 0) {
    io.err(USAGE);
    return 2;
  }
  const { city } = loadSetup();
  let failed = 0;
  for (const file of expand(args)) {
    const label = file;
    io.out(`Checking ${label}`);
    const { rules, issues, warnings } = loadRuleFile(file, city, label);
    for (const warning of warnings) io.err(`WARNING: ${formatIssue(warning)}`);
    if (issues.length) {
      failed++;
      io.out('  FAILED:');
      for (const issue of issues) io.err(formatIssue(issue));
    } else {
      io.out(`  SUCCESS: ${rules.length} rules found`);
    }
    io.out('');
  }
  return failed ? 1 : 0;
}

function parseTime(flag: string, value: string | undefined): number {
  const ms = value === undefined ? NaN : Date.parse(value);
  if (!Number.isFinite(ms))
    throw new Error(
      `--${flag} needs an ISO-8601 time such as 2026-10-01T00:00:00+07:00${value ? `, got "${value}"` : ''}`,
    );
  return ms;
}

async function backtest(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      'data-dir': { type: 'string' },
      lang: { type: 'string', default: 'vi' },
    },
  });
  if (positionals.length !== 1) {
    io.err(USAGE);
    return 2;
  }
  const from = parseTime('from', values.from);
  const to = parseTime('to', values.to);
  if (to <= from) throw new Error('--to must be after --from');
  const lang = values.lang === 'en' ? 'en' : 'vi';
  const { config, city } = loadSetup(values['data-dir']);
  const file = positionals[0]!;
  const { rules, issues } = loadRuleFile(file, city, file);
  if (issues.length) {
    for (const issue of issues) io.err(formatIssue(issue));
    return 1;
  }
  if (config.store.engine === 'embedded' && !existsSync(join(config.dataDir, 'ioc.sqlite'))) {
    throw new Error(`no embedded store in ${config.dataDir} (give the platform's data directory with --data-dir)`);
  }
  const store = await openStore(config, pino({ level: 'silent' }));
  try {
    const result = await runBacktest({ store, city, rules, from, to });
    const time = new Intl.DateTimeFormat('sv-SE', { timeZone: city.timezone, dateStyle: 'short', timeStyle: 'medium' });
    io.out(
      `Backtest of ${file} (${rules.length} rules) from ${new Date(from).toISOString()} ` +
        `to ${new Date(to).toISOString()}`,
    );
    io.out(
      `Replayed ${result.replayed.readings} readings, ${result.replayed.statuses} status changes ` +
        `and ${result.replayed.cameraEvents} camera events from the ${store.name} store.\n`,
    );
    if (result.events.length === 0) io.out('Nothing would have fired.');
    else
      io.out(
        `${`TIME (${city.timezone})`.padEnd(24)} ${'EVENT'.padEnd(9)} ${'SEVERITY'.padEnd(13)} ` +
          `${'RULE'.padEnd(28)} ${'SENSOR'.padEnd(20)} MESSAGE`,
      );
    for (const e of result.events) {
      const a = e.alert;
      io.out(
        `${time.format(e.ts).padEnd(24)} ${e.type.padEnd(9)} ${a.severity.padEnd(13)} ${a.ruleId.padEnd(28)} ` +
          `${a.sensorId.padEnd(20)} ${a.message[lang]}`,
      );
    }
    const fired = new Map<string, number>();
    for (const e of result.events)
      if (e.type === 'firing') fired.set(e.alert.ruleId, (fired.get(e.alert.ruleId) ?? 0) + 1);
    const stillOpen = new Set<string>();
    for (const e of result.events) e.type === 'resolved' ? stillOpen.delete(e.alert.id) : stillOpen.add(e.alert.id);
    io.out('');
    for (const rule of rules) io.out(`${rule.id}: fired ${fired.get(rule.id) ?? 0} time(s)`);
    io.out(`${stillOpen.size} alert(s) still open at ${new Date(to).toISOString()}`);
    return 0;
  } finally {
    await store.close();
  }
}

export const rulesCommand: CliCommand = {
  name: 'rules',
  summary: 'check rule files; backtest them against stored history',
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'check') return check(rest, io);
    if (sub === 'backtest') return backtest(rest, io);
    io.err(USAGE);
    return sub === '--help' || sub === '-h' ? 0 : 2;
  },
};
