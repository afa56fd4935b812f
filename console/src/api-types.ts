/** Shapes of the platform's HTTP API as the console reads them (see docs/console.md). */
import type { FeatureCollection, LineString, MultiLineString } from 'geojson';
export type { Alert, AlertEvent, AlertState, Severity } from '../../alerts/alert-model.ts';

export interface I18nText {
  vi: string;
  en: string;
}

export interface CityInfo {
  id: string;
  name: I18nText;
  timezone: string;
  center: { lat: number; lon: number };
  zoom: number;
  boundaryAttribution?: string;
  /** Optional base map, e.g. a self-hosted tile server; without it the map is boundary + sensors only. */
  tileUrl?: string;
  tileAttribution?: string;
  /** the sensor kinds and the districts in use (the admin's sensor page offers them) */
  kinds?: Array<{ kind: string }>;
  districts?: string[];
}

/** GET /api/city/rivers: named lines; `rank` 1 main river, 2 branch, 3 canal (drawn thinner). */
export interface RiverProperties {
  name: string;
  name_en: string;
  rank?: number;
}
export type RiversGeoJson = FeatureCollection<LineString | MultiLineString, RiverProperties>;

export type SensorStatus = 'online' | 'offline' | 'unknown';

export interface LatestValue {
  value: number;
  ts: number;
}

export interface SensorInfo {
  id: string;
  kind: string;
  name: string;
  lat: number;
  lon: number;
  district: string;
  tags: Record<string, string>;
  floodLevels?: number[];
  status: SensorStatus;
  lastSeen?: number;
  latest: Record<string, LatestValue>;
}

export interface MetricInfo {
  name: string;
  unit: string;
  label: I18nText;
  min: number;
  max: number;
}
export interface SensorDetail extends SensorInfo {
  metrics: MetricInfo[];
}

export interface LatestReading {
  sensorId: string;
  kind: string;
  district: string;
  metric: string;
  ts: number;
  value: number;
}

export interface ReadingSeries {
  sensorId: string;
  metric: string;
  unit: string;
  points: { ts: number | string; value: number | null }[];
}

export type Role = 'viewer' | 'operator' | 'admin';
export interface SessionInfo {
  role: Role;
  username?: string;
}

/** The console's wire format for timestamps is epoch ms, but accept ISO strings too. */
export function toEpochMs(ts: number | string): number {
  return typeof ts === 'number' ? ts : Date.parse(ts);
}
