import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { profileChartSvg, throughputCpuChartSpec, throughputCpuChartSvg } from './charts.js';
import { type RampResult, summarise } from './ramp.js';

function ramp(label: string, cap: number, cpuPerMbps: number): RampResult {
  const steps = [100, 300, 500, 700].map((load) => {
    const achieved = Math.min(load, cap);
    return summarise(
      load,
      [
        {
          requestedBps: load * 1e6,
          achievedBps: achieved * 1e6,
          sentBps: load * 1e6,
          size: 1024,
          durationUs: 1e6,
          sends: 1,
          recvs: 1,
          late: 0,
          bad: 0,
          lost: 0,
          rttUs: new Float64Array([50]),
        },
      ],
      { utilisation: Math.min(1, achieved * cpuPerMbps) },
    );
  });
  return { label, clients: 4, packetSize: 1024, steps };
}

/** All text content of an SVG, via a real XML parser (fails on malformed XML). */
function texts(svg: string): string[] {
  expect(XMLValidator.validate(svg)).toBe(true);
  const out: string[] = [];
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      for (const [k, v] of Object.entries(n)) {
        if (k === 'text') {
          for (const t of Array.isArray(v) ? v : [v]) {
            out.push(
              typeof t === 'object'
                ? String((t as Record<string, unknown>)['#text'] ?? '')
                : String(t),
            );
          }
        }
        walk(v);
      }
    }
  };
  walk(new XMLParser({ ignoreAttributes: false }).parse(svg));
  return out;
}

describe('charts', () => {
  const series = [ramp('Prime 100us', 460, 0.0007), ramp('Linux 0us', 480, 0.0015)];

  it('Figure 1(b): well-formed SVG with both axes, title, diagonal and every configuration', async () => {
    const svg = await throughputCpuChartSvg(series, { title: 'Figure 1(b)' });
    const t = texts(svg);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(t).toContain('Figure 1(b)');
    expect(t).toContain('Offered load (Mb/s)');
    expect(t).toContain('Achieved throughput (Mb/s)');
    expect(t).toContain('CPU utilisation (%) (dashed)');
    expect(t).toContain('Prime 100us');
    expect(t).toContain('Linux 0us');
    // throughput lines + CPU lines per configuration, plus the diagonal
    expect((svg.match(/role-mark/g) ?? []).length).toBeGreaterThanOrEqual(3);
  });

  it('puts CPU on an independent right axis, or in its own panel', () => {
    const spec = throughputCpuChartSpec(series);
    expect(spec.resolve).toEqual({ scale: { y: 'independent' } });
    expect(JSON.stringify(spec)).toContain('"orient":"right"');
    expect(throughputCpuChartSpec(series, { layout: 'panels' }).vconcat).toHaveLength(2);
  });

  it('panels layout renders to well-formed SVG too', async () => {
    const t = texts(await throughputCpuChartSvg(series, { layout: 'panels' }));
    expect(t).toContain('CPU utilisation (%) (dashed)');
  });

  it('Figure 1(a): stacked percentages per category per configuration', async () => {
    const svg = await profileChartSvg(
      [
        {
          label: 'Prime',
          profile: {
            Idle: 68,
            IPC: 4,
            Kernel: 9,
            Driver: 7,
            IP: 5,
            Buffer: 3,
            Notification: 2,
            Translation: 1,
            Interrupt: 1,
          },
        },
        { label: 'Linux', profile: { Idle: 28, Kernel: 40, Driver: 12, IP: 20 } },
      ],
      { title: 'Figure 1(a)' },
    );
    const t = texts(svg);
    for (const want of [
      'Figure 1(a)',
      'Prime',
      'Linux',
      'IPC',
      'Idle',
      'Share of time (%)',
      'Category',
    ]) {
      expect(t).toContain(want);
    }
  });
});
