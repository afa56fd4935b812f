import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_DIR } from '../config/platform-config.ts';

/**
 * A throwaway sensor kind for the extension-point tests: `noise` (LAeq, dB(A)) in a kinds folder beside the
 * shipped ones, and a small city with one air station and one noise meter. Written under `dir`; nothing in
 * config/ changes.
 */
export const NOISE_KIND_YAML = `
kind: noise
model: NoiseLevelObserved
category: environment
metrics:
  LAeq:
    unit: "dB(A)"
    unitCode: "2N"
    min: 20
    max: 140
    label: { vi: "Mức ồn tương đương", en: "Equivalent noise level" }
`;

export function writeNoiseCity(dir: string): { kindsDir: string; cityFile: string } {
  const kindsDir = join(dir, 'kinds');
  cpSync(join(CONFIG_DIR, 'kinds'), kindsDir, { recursive: true });
  writeFileSync(join(kindsDir, 'noise.yaml'), NOISE_KIND_YAML);
  const cityDir = join(dir, 'city');
  mkdirSync(join(cityDir, 'rules'), { recursive: true });
  const cityFile = join(cityDir, 'city.yaml');
  writeFileSync(
    cityFile,
    [
      'id: hue',
      'name: { vi: "Thành phố Huế", en: "Huế City" }',
      'timezone: Asia/Ho_Chi_Minh',
      'center: { lat: 16.4637, lon: 107.5909 }',
      'sensors: sensors.yaml',
      'rules: rules',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(cityDir, 'sensors.yaml'),
    [
      'sensors:',
      '  - { id: air-ngomon, kind: air, name: "Ngọ Môn", lat: 16.4675, lon: 107.5793, district: "Phú Xuân" }',
      '  - { id: noise-dongba, kind: noise, name: "Đo ồn chợ Đông Ba", lat: 16.4724, lon: 107.5887,',
      '      district: "Phú Xuân" }',
      '',
    ].join('\n'),
  );
  return { kindsDir, cityFile };
}
