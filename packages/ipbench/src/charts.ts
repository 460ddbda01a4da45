/**
 * `@udf/ipbench/charts` — SVG charts of ipbench results, built as Vega-Lite specifications and
 * rendered headlessly by Vega (no canvas, no browser).
 *
 * An optional entry point: `vega` and `vega-lite` are optional peer dependencies, so a plain
 * `npm i @udf/ipbench` installs no chart stack. Install them beside it to draw charts
 * (`npm i @udf/ipbench vega vega-lite`); the specifications (`…Spec`) need neither.
 *
 * @module
 */
import type { RampResult } from './ramp.js';

/** A Vega-Lite specification (JSON). */
export type VegaLiteSpec = Record<string, unknown>;

/** The paper's profile categories, in Figure 1(a)'s order. */
export const PROFILE_CATEGORIES: readonly string[] = Object.freeze([
  'IPC',
  'Kernel',
  'Driver',
  'IP',
  'Notification',
  'Translation',
  'Interrupt',
  'Buffer',
  'Idle',
]);

/** Options of {@link throughputCpuChartSpec}. */
export interface ThroughputChartOptions {
  /** Chart title. Default `Throughput and CPU vs offered load`. */
  title?: string;
  /** `dual-axis` (the paper's Figure 1(b), CPU on a right axis) or `panels` (two panels). */
  layout?: 'dual-axis' | 'panels';
  /** Plot width in px. Default 520. */
  width?: number;
  /** Plot height in px. Default 320 (each panel 220). */
  height?: number;
}

interface Row {
  config: string;
  offered: number;
  achieved: number;
  cpu: number | null;
}

function rows(series: readonly RampResult[]): Row[] {
  return series.flatMap((r) =>
    r.steps.map((s) => ({
      config: r.label,
      offered: s.offeredMbps,
      achieved: s.achievedBps / 1e6,
      cpu: s.cpu ? s.cpu.utilisation * 100 : null,
    })),
  );
}

/**
 * Figure 1(b): achieved throughput (solid) and target CPU (dashed) against offered load for one
 * or more configurations, with the thin achieved = offered diagonal.
 */
export function throughputCpuChartSpec(
  series: readonly RampResult[],
  options: ThroughputChartOptions = {},
): VegaLiteSpec {
  const data = rows(series);
  const maxLoad = Math.max(1, ...data.map((d) => d.offered));
  const width = options.width ?? 520;
  const x = {
    field: 'offered',
    type: 'quantitative',
    title: 'Offered load (Mb/s)',
    scale: { domain: [0, maxLoad] },
  };
  const color = { field: 'config', type: 'nominal', title: 'Configuration' };
  const diagonal = {
    data: {
      values: [
        { offered: 0, y: 0 },
        { offered: maxLoad, y: maxLoad },
      ],
    },
    mark: { type: 'line', color: '#888', strokeWidth: 1 },
    encoding: { x, y: { field: 'y', type: 'quantitative' } },
  };
  const throughput = {
    mark: { type: 'line', point: true },
    encoding: {
      x,
      y: {
        field: 'achieved',
        type: 'quantitative',
        title: 'Achieved throughput (Mb/s)',
        scale: { domain: [0, maxLoad] },
      },
      color,
    },
  };
  const cpu = {
    transform: [{ filter: 'datum.cpu !== null' }],
    mark: { type: 'line', strokeDash: [5, 3], point: { shape: 'triangle-up' } },
    encoding: {
      x,
      y: {
        field: 'cpu',
        type: 'quantitative',
        title: 'CPU utilisation (%) (dashed)',
        scale: { domain: [0, 100] },
        axis: { orient: 'right' },
      },
      color,
    },
  };
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title ?? 'Throughput and CPU vs offered load',
    data: { values: data },
    config: { font: 'sans-serif' },
  };
  if (options.layout === 'panels') {
    const h = options.height ?? 220;
    return {
      ...base,
      vconcat: [
        { width, height: h, layer: [diagonal, throughput] },
        {
          width,
          height: h,
          ...cpu,
          encoding: { ...cpu.encoding, y: { ...cpu.encoding.y, axis: { orient: 'left' } } },
        },
      ],
    };
  }
  return {
    ...base,
    width,
    height: options.height ?? 320,
    layer: [{ layer: [diagonal, throughput] }, cpu],
    resolve: { scale: { y: 'independent' } },
  };
}

/** One configuration's execution profile: cycles (or shares) per category. */
export interface ProfileSeries {
  /** Configuration name. */
  label: string;
  /** Cycles or shares per category; normalised to percent of the total. */
  profile: Readonly<Record<string, number>>;
}

/** Options of {@link profileChartSpec}. */
export interface ProfileChartOptions {
  /** Chart title. Default `Execution profile`. */
  title?: string;
  /** Leave out `Idle` and show shares of non-idle time (the paper's 65% / 35% split). */
  excludeIdle?: boolean;
  /** Plot width in px. Default 120 per configuration, at least 240. */
  width?: number;
  /** Plot height in px. Default 320. */
  height?: number;
}

/** Figure 1(a): a stacked bar per configuration of the percentage of time per category. */
export function profileChartSpec(
  series: readonly ProfileSeries[],
  options: ProfileChartOptions = {},
): VegaLiteSpec {
  const known = new Set(PROFILE_CATEGORIES);
  const extra = [
    ...new Set(series.flatMap((s) => Object.keys(s.profile)).filter((k) => !known.has(k))),
  ];
  const order = [...PROFILE_CATEGORIES, ...extra].filter(
    (c) => !(options.excludeIdle && c === 'Idle'),
  );
  const values = series.flatMap((s) => {
    const total = order.reduce((a, c) => a + (s.profile[c] ?? 0), 0) || 1;
    return order
      .filter((c) => (s.profile[c] ?? 0) > 0)
      .map((c) => ({
        config: s.label,
        category: c,
        rank: order.indexOf(c),
        percent: (100 * s.profile[c]!) / total,
      }));
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title ?? 'Execution profile',
    width: options.width ?? Math.max(240, 120 * series.length),
    height: options.height ?? 320,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'config',
        type: 'nominal',
        title: 'Configuration',
        sort: null,
        axis: { labelAngle: 0 },
      },
      y: {
        field: 'percent',
        type: 'quantitative',
        title: options.excludeIdle ? 'Share of non-idle time (%)' : 'Share of time (%)',
        stack: 'zero',
        scale: { domain: [0, 100] },
      },
      color: { field: 'category', type: 'nominal', title: 'Category', scale: { domain: order } },
      order: { field: 'rank', type: 'quantitative' },
      tooltip: [{ field: 'category' }, { field: 'percent', type: 'quantitative', format: '.1f' }],
    },
    config: { font: 'sans-serif' },
  };
}

/** Compiles a Vega-Lite spec and renders it to an SVG string headlessly. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  // biome-ignore lint/suspicious/noExplicitAny: Vega-Lite's TopLevelSpec is a deep union
  const compiled = vl.compile(spec as any).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Figure 1(b) as SVG. */
export function throughputCpuChartSvg(
  series: readonly RampResult[],
  options?: ThroughputChartOptions,
): Promise<string> {
  return renderSvg(throughputCpuChartSpec(series, options));
}

/** Figure 1(a) as SVG. */
export function profileChartSvg(
  series: readonly ProfileSeries[],
  options?: ProfileChartOptions,
): Promise<string> {
  return renderSvg(profileChartSpec(series, options));
}
