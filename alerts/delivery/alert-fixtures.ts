import { randomUUID } from 'node:crypto';
import type { Alert } from '../alert-model.ts';

/** Alerts as data for the CAP rendering tests (outline's factories.ts style): each test makes its own. */
export function makeAlert(overrides: Partial<Alert> = {}): Alert {
  const now = overrides.startsAt ?? Date.UTC(2026, 9, 28, 3, 0, 0);
  return {
    id: randomUUID(),
    ruleId: 'flood-level-2',
    sensorId: 'water-kimlong',
    kind: 'water',
    district: 'Kim Long',
    severity: 'high',
    category: 'naturalDisaster',
    subCategory: 'flood',
    state: 'firing',
    title: { vi: 'Lũ vượt báo động II tại Kim Long', en: 'Flood above alarm level II at Kim Long' },
    message: { vi: 'Mực nước 2,15 m vượt báo động II (2,0 m)', en: 'Water level 2.15 m above alarm level II (2.0 m)' },
    metric: 'waterLevel',
    value: 2.15,
    threshold: 2.0,
    unit: 'm',
    location: { lat: 16.466, lon: 107.565 },
    startsAt: now,
    firingAt: now,
    updatedAt: now,
    ...overrides,
  };
}
