import { DomainError } from '../../core/domain-error.ts';

/**
 * A person's account name must stay clear of every sensor id. The MQTT clientId lanes
 * (broker/client-id-policy.ts) give an account the clientIds `<name>`, `<name>-…`, `<name>:…` and a
 * device those of its id: an account named like a sensor, or a prefix of one (`air` beside `air-dongba`),
 * or a sensor id followed by more (`air-dongba-ops`), would share lane space with that device, and a
 * lane decision that depends on which prefix is longest is one mistake away from a session takeover.
 * Plain string prefixes either way, stricter than the lanes need, so the rule is easy to state.
 */
export function sensorNameClash(name: string, sensorIds: Iterable<string>): string | undefined {
  for (const id of sensorIds) {
    if (id === name || id.startsWith(name) || name.startsWith(id)) return id;
  }
  return undefined;
}

/** Throws the DomainError the API (409) and the CLI print when `name` clashes with a sensor id. */
export function assertNotSensorName(name: string, sensorIds: Iterable<string>): void {
  const id = sensorNameClash(name, sensorIds);
  if (id === undefined) return;
  const how = id === name ? 'is the id of' : id.startsWith(name) ? 'is a prefix of' : 'starts with';
  throw new DomainError(
    'conflict',
    'account_name_is_sensor',
    `account name ${name} ${how} the sensor ${id}: ` +
      'MQTT clientIds are scoped by these names, choose a name that is not a sensor id nor a prefix of one',
  );
}
