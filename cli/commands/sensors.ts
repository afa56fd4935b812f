import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { recordCliChange } from '../../audit/cli-changes.ts';
import { DomainError } from '../../core/domain-error.ts';
import { loadPlatformConfig } from '../../config/platform-config.ts';
import { checkImport, type ImportFormat } from '../../config/sensors/sensor-import.ts';
import type { CliCommand } from '../cli-command.ts';
import { openCliRegistry } from '../sensor-registry-access.ts';

const USAGE = `usage:
  ioc sensors list [--all]                        the registry's sensors (--all: disabled ones too)
  ioc sensors show SENSOR_ID                      one sensor's entry
  ioc sensors import FILE [--dry-run] [--update] [--format csv|geojson|yaml]
                                                  add sensors from CSV, GeoJSON or a city sensors.yaml; every problem
                                                  is listed by line/feature and nothing changes unless all rows pass.
                                                  --update: rows for existing sensors update them (default for .yaml)
  ioc sensors disable SENSOR_ID | enable SENSOR_ID | delete SENSOR_ID
Common: [--data-dir DIR] [--config FILE]. New sensors' secrets are printed once. A running platform picks
changes up at once (disabled or deleted sensors are disconnected). Exit 1 on an unknown sensor or any problem.`;

const FORMATS: Record<string, ImportFormat> = {
  '.csv': 'csv',
  '.geojson': 'geojson',
  '.json': 'geojson',
  '.yaml': 'yaml',
  '.yml': 'yaml',
};

export const sensorsCommand: CliCommand = {
  name: 'sensors',
  summary: 'list, import, disable, enable or delete sensors of the device registry',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        config: { type: 'string' },
        all: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        update: { type: 'boolean' },
        format: { type: 'string' },
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
    const { registry, admin } = openCliRegistry(config, dataDir);
    const line = (e: { id: string; kind: string; district: string; name: string; disabled: boolean }) =>
      `${e.id.padEnd(24)} ${e.kind.padEnd(8)} ${e.district.padEnd(14)} ${e.disabled ? 'disabled' : 'enabled '}` +
      ` ${e.name}`;
    const need = (id: string | undefined) => {
      if (!id) throw new DomainError('invalid', 'sensor_id_required', `a sensor id is required\n${USAGE}`);
      if (!registry.entry(id))
        throw new DomainError(
          'not_found',
          'sensor_not_found',
          `no sensor "${id.slice(0, 64)}" in the registry (${registry.file})`,
        );
      return id;
    };

    if (action === 'list') {
      for (const e of registry.all()) if (values.all || !e.disabled) io.out(line(e));
      return 0;
    }
    if (action === 'show') {
      io.out(JSON.stringify(registry.entry(need(target)), null, 2));
      return 0;
    }
    if (action === 'disable' || action === 'enable') {
      const id = need(target);
      const before = registry.entry(id)!.disabled;
      admin.setDisabled(id, action === 'disable');
      recordCliChange(dataDir, {
        action: `sensor.${action}`,
        target: id,
        details: { before: { disabled: before }, after: { disabled: action === 'disable' } },
      });
      io.out(`${id} ${action}d`);
      return 0;
    }
    if (action === 'delete') {
      const removed = admin.remove(need(target));
      recordCliChange(dataDir, {
        action: 'sensor.delete',
        target: removed.id,
        details: { before: { kind: removed.kind, name: removed.name, district: removed.district } },
      });
      io.out(`${removed.id} deleted (its readings stay in the store)`);
      return 0;
    }
    if (action === 'import' && target) {
      const format = (values.format as ImportFormat | undefined) ?? FORMATS[extname(target).toLowerCase()];
      if (!format || !['csv', 'geojson', 'yaml'].includes(format)) {
        io.err(`cannot tell the format of ${target}: name it .csv, .geojson or .yaml, or pass --format`);
        return 2;
      }
      const check = checkImport(format, readFileSync(target, 'utf8'), registry.checks, {
        exists: (id) => registry.entry(id) !== undefined,
        updateExisting: values.update ?? format === 'yaml',
      });
      for (const p of check.problems) io.err(`${target}: ${p.where}${p.id ? ` (${p.id})` : ''}: ${p.message}`);
      if (check.problems.length) {
        io.err(`${check.problems.length} problems in ${check.rows} rows: nothing imported`);
        return 1;
      }
      for (const p of check.plan) io.out(`${p.existing ? 'update' : 'create'} ${p.sensor.id}`);
      if (values['dry-run']) {
        io.out(`dry run: ${check.plan.length} rows would be imported; nothing changed`);
        return 0;
      }
      const result = admin.importPlan(check.plan);
      recordCliChange(dataDir, {
        action: 'sensor.import',
        target: format,
        details: { rows: check.rows, created: result.created.map((c) => c.sensorId), updated: result.updated },
      });
      for (const c of result.created) io.out(`secret ${c.sensorId} ${c.password}`);
      io.out(
        `imported ${check.plan.length} sensors (${result.created.length} new: their secrets above are shown once)`,
      );
      return 0;
    }
    io.err(USAGE);
    return 2;
  },
};
