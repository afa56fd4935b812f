import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { auditDirOf, verifyAuditDir } from '../../audit/audit-files.ts';
import { auditKeyFileOf, readAuditKey, type AuditKey } from '../../audit/audit-key.ts';
import { CSV_HEADER, csvRow, walkAudit } from '../../audit/audit-query.ts';
import { loadPlatformConfig } from '../../config/platform-config.ts';
import type { CliCommand } from '../cli-command.ts';

const USAGE = `usage:
  ioc audit verify [--data-dir DIR] [--key-file FILE] [--unkeyed]
                                             walk the whole hash chain and check each entry's MAC with the
                                             audit key (audit.keyFile, default <dataDir>.audit.key); exit 0
                                             when intact, 1 with every break; --unkeyed: the hashes only
  ioc audit export [--data-dir DIR] [--format ndjson|csv] [--from TIME] [--to TIME] [--actor NAME] [--action A,B]
                                             entries oldest first to standard output; NDJSON lines are the
                                             stored ones (verifiable); TIME is ISO-8601 or epoch ms, --to exclusive
Reads the files only: safe while the platform runs (entries it has not yet written are not included).`;

function timeArg(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^-?\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(ms)) throw new Error(`--${name} must be ISO-8601 or epoch milliseconds, got "${value}"`);
  return ms;
}

export const auditCommand: CliCommand = {
  name: 'audit',
  summary: "verify the audit log's hash chain, export its entries (NDJSON or CSV)",
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        'key-file': { type: 'string' },
        unkeyed: { type: 'boolean' },
        config: { type: 'string' },
        format: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        actor: { type: 'string' },
        action: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
    const [action] = positionals;
    if (values.help || !action) {
      io.out(USAGE);
      return values.help ? 0 : 2;
    }
    if (action !== 'verify' && action !== 'export') {
      io.err(`ioc audit: unknown action "${action}"\n${USAGE}`);
      return 2;
    }
    const config =
      values['data-dir'] && !values.config
        ? undefined
        : loadPlatformConfig({ env: { ...process.env, ...(values.config ? { IOC_CONFIG: values.config } : {}) } });
    const dataDir = values['data-dir'] ? resolve(values['data-dir']) : config!.dataDir;
    const dir = auditDirOf(dataDir);
    // a mistyped directory must not pass as "an empty, intact log"
    if (!existsSync(dir)) {
      io.err(`ioc audit: no audit log in ${dataDir} (expected ${dir})`);
      return 2;
    }
    if (action === 'verify') {
      let key: AuditKey | undefined;
      if (!values.unkeyed) {
        const keyFile = values['key-file']
          ? resolve(values['key-file'])
          : auditKeyFileOf(config?.audit.keyFile, dataDir);
        try {
          key = readAuditKey(keyFile);
        } catch (err) {
          io.err(`ioc audit verify: ${(err as Error).message}; --key-file FILE, or --unkeyed to check the hashes only`);
          return 2;
        }
      }
      const s = verifyAuditDir(dir, key);
      for (const b of s.breaks)
        io.out(
          `BREAK ${b.file}${b.line ? ` line ${b.line}` : ''}${b.seq !== undefined ? ` (seq ${b.seq})` : ''}: ` +
            `${b.reason}`,
        );
      const head = s.last ? `head seq ${s.last.seq} hash ${s.last.hash}` : 'empty';
      io.out(
        `${s.ok ? 'ok' : 'BROKEN'}${key ? ' (MACs checked)' : ' (unkeyed: hashes only)'}: ${s.entries} ` +
          `entries in ${s.files.length} files, ${s.breaks.length} breaks, ${s.pending} pending; ${head}`,
      );
      return s.ok ? 0 : 1;
    }
    const format = values.format ?? 'ndjson';
    if (format !== 'ndjson' && format !== 'csv') {
      io.err('ioc audit export: --format ndjson|csv');
      return 2;
    }
    const from = timeArg(values.from, 'from');
    const to = timeArg(values.to, 'to');
    if (from !== undefined && to !== undefined && from >= to) {
      io.err('ioc audit export: --from must be before --to');
      return 2;
    }
    const filter = {
      from,
      to,
      actor: values.actor,
      action: values.action
        ?.split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    };
    // io.out ends each line with \n: a CSV line keeps its \r so rows end in CRLF (RFC 4180)
    if (format === 'csv') io.out(CSV_HEADER.slice(0, -1));
    for (const { line, entry } of walkAudit(dir, filter)) io.out(format === 'csv' ? csvRow(entry).slice(0, -1) : line);
    return 0;
  },
};
