/**
 * A traffic-jam threshold rule as tests write it (YAML or an API body), with overrides: one builder instead of
 * the same object in every alerts and API test. Plain data on purpose, so a test can also send what the
 * schema refuses (a deprecated `kind`, a wrong field).
 */
export function trafficJamRule(
  id: string,
  sensorId: string,
  overrides: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  return {
    id,
    type: 'threshold',
    selector: { sensorIds: [sensorId] },
    metric: 'occupancy',
    above: 0.5,
    severity: 'medium',
    category: 'traffic',
    subCategory: 'trafficJam',
    ...overrides,
  };
}

/** The same rule under the name its type had before (docs/names.md): `kind`. */
export function withDeprecatedKind(rule: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { type, ...rest } = rule;
  return { ...rest, kind: type };
}
