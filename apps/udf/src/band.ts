/**
 * Figure 1(b) as a band across the PCI bus configurations the paper's "64-bit PCI bus" leaves
 * open (`BUS_CONFIGURATIONS` of `@udf/system`): every step once per configuration, printed and
 * written side by side.
 */
import { BUS_CONFIGURATIONS, busBandSteps, type StepResult } from '@udf/system';
import type { Step } from './steps.js';

/** A bus as a step reports it. */
export type StepBus = StepResult['bus'];

/**
 * Short name of a bus: `<data path width>/<clock>`, as in `BUS_CONFIGURATIONS` (`64/66`). A
 * 64-bit slot whose EEPROM leaves DATA64_EN clear moves data 32 bits wide and says so.
 */
export function busName(bus: StepBus): string {
  return bus.widthBits === 64 && !bus.eeprom64
    ? `64/${bus.clockMHz} (32-bit data)`
    : `${bus.widthBits}/${bus.clockMHz}`;
}

/** Every step once per bus configuration of the band (slowest bus first within each step). */
export function bandSteps(steps: readonly Step[]): Step[] {
  return steps.flatMap((s) =>
    busBandSteps(s, BUS_CONFIGURATIONS).map((b) => ({ ...s, bus: b.opts.bus })),
  );
}

/** One row of the band: a configuration × hold-off × offered load, measured on every bus. */
export interface BandRow {
  readonly config: string;
  readonly holdoffUs: number;
  /** Offered load over all NICs, Mb/s. */
  readonly requestedMbps: number;
  /** Per bus name: achieved Mb/s and CPU %. */
  readonly buses: Record<string, { achievedMbps: number; cpuPercent: number }>;
}

/** Group band results into rows, in step order; `buses` lists the bus names in column order. */
export function bandRows(results: readonly StepResult[]): { buses: string[]; rows: BandRow[] } {
  const buses: string[] = [];
  const rows = new Map<string, BandRow>();
  for (const r of results) {
    const bus = busName(r.bus);
    if (!buses.includes(bus)) buses.push(bus);
    const key = `${r.config}/${r.holdoffUs}/${r.requestedMbps}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        config: r.config,
        holdoffUs: r.holdoffUs,
        requestedMbps: r.requestedMbps,
        buses: {},
      };
      rows.set(key, row);
    }
    row.buses[bus] = { achievedMbps: r.achievedMbps, cpuPercent: r.cpuPercent };
  }
  return { buses, rows: [...rows.values()] };
}

/** The band as text: one line per configuration × hold-off × load, "achieved, cpu %" per bus. */
export function formatBand(results: readonly StepResult[]): string {
  const { buses, rows } = bandRows(results);
  const w = Math.max(14, ...buses.map((b) => b.length));
  const lines = [
    `${'config'.padEnd(12)} ${'holdoff'.padStart(8)} ${'offered'.padStart(8)}  ${buses.map((b) => b.padStart(w)).join(' ')}`,
    `${'-'.repeat(12)} ${'-'.repeat(8)} ${'-'.repeat(8)}  ${buses.map(() => '-'.repeat(w)).join(' ')}`,
  ];
  let last = '';
  for (const row of rows) {
    const key = `${row.config}/${row.holdoffUs}`;
    if (last && key !== last) lines.push('');
    last = key;
    const cells = buses.map((b) => {
      const c = row.buses[b];
      return (c ? `${c.achievedMbps.toFixed(0)}, ${c.cpuPercent.toFixed(0)} %` : '-').padStart(w);
    });
    lines.push(
      `${row.config.padEnd(12)} ${`${row.holdoffUs} µs`.padStart(8)} ${row.requestedMbps.toFixed(0).padStart(8)}  ${cells.join(' ')}`,
    );
  }
  lines.push(
    '(per bus: achieved Mb/s, CPU %; bus = data path width / clock MHz, the configurations the paper’s "64-bit PCI bus" leaves open)',
  );
  return `${lines.join('\n')}\n`;
}

/** The band as CSV: one line per step (configuration, hold-off, load, bus, achieved, CPU). */
export function bandCsv(results: readonly StepResult[]): string {
  const head =
    'config,holdoff_us,offered_mbps,bus,clock_mhz,width_bits,eeprom64,achieved_mbps,cpu_percent';
  const lines = results.map((r) =>
    [
      r.config,
      r.holdoffUs,
      r.requestedMbps,
      busName(r.bus),
      r.bus.clockMHz,
      r.bus.widthBits,
      r.bus.eeprom64,
      r.achievedMbps,
      r.cpuPercent,
    ].join(','),
  );
  return `${[head, ...lines].join('\n')}\n`;
}
