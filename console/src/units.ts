/** UCUM unit codes from the kind files, as people write them. */
const DISPLAY: Record<string, string> = {
  'ug/m3': 'µg/m³',
  'mg/m3': 'mg/m³',
  Cel: '°C',
  'm3/s': 'm³/s',
  'km/h': 'km/h',
  '{vehicle}/h': 'xe/h',
  '{vehicle}': 'xe',
  '1': '',
};

export function displayUnit(unit: string | undefined): string {
  if (!unit) return '';
  return DISPLAY[unit] ?? unit.replace(/\{([^}]*)\}/g, '$1');
}
