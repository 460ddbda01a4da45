import type { StepResult } from '@udf/system';
import { describe, expect, it } from 'vitest';
import { bandCsv, bandRows, bandSteps, busName, formatBand } from './band.js';
import type { Step } from './steps.js';

const step: Step = { file: 'x.yaml', config: 'isolated', holdoffUs: 100, loadMbps: 450 };

const result = (bus: StepResult['bus'], achievedMbps: number, cpuPercent: number) =>
  ({
    config: 'isolated',
    holdoffUs: 100,
    requestedMbps: 450,
    bus,
    achievedMbps,
    cpuPercent,
  }) as StepResult;

describe('the Figure 1(b) band', () => {
  it('runs every step once on each cited bus configuration, slowest first', () => {
    const steps = bandSteps([step, { ...step, loadMbps: 1000 }]);
    expect(steps).toHaveLength(8);
    expect(steps.slice(0, 4).map((s) => s.bus)).toEqual([
      { clockMHz: 33, widthBits: 32, eeprom64: true },
      { clockMHz: 33, widthBits: 64, eeprom64: true },
      { clockMHz: 66, widthBits: 32, eeprom64: true },
      { clockMHz: 66, widthBits: 64, eeprom64: true },
    ]);
    for (const s of steps) expect(s).toMatchObject({ file: 'x.yaml', config: 'isolated' });
  });

  it('names a bus by its data path, and says when the EEPROM keeps a 64-bit slot at 32 bits', () => {
    expect(busName({ clockMHz: 33, widthBits: 32, eeprom64: true })).toBe('32/33');
    expect(busName({ clockMHz: 66, widthBits: 64, eeprom64: false })).toBe('64/66 (32-bit data)');
  });

  it('prints one line per step with achieved Mb/s and CPU per bus, and writes one CSV line per bus', () => {
    const results = [
      result({ clockMHz: 33, widthBits: 32, eeprom64: true }, 409.4, 29.1),
      result({ clockMHz: 66, widthBits: 64, eeprom64: true }, 450.2, 32),
    ];
    const { buses, rows } = bandRows(results);
    expect(buses).toEqual(['32/33', '64/66']);
    expect(rows).toHaveLength(1);
    const text = formatBand(results).split('\n');
    expect(text[0]).toMatch(/config\s+holdoff\s+offered\s+32\/33\s+64\/66/);
    expect(text[2]).toMatch(/^isolated\s+100 µs\s+450\s+409, 29 %\s+450, 32 %$/);
    const csv = bandCsv(results).trim().split('\n');
    expect(csv).toEqual([
      'config,holdoff_us,offered_mbps,bus,clock_mhz,width_bits,eeprom64,achieved_mbps,cpu_percent',
      'isolated,100,450,32/33,33,32,true,409.4,29.1',
      'isolated,100,450,64/66,66,64,true,450.2,32',
    ]);
  });
});
