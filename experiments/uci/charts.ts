// SVG charts of a run (Vega-Lite, rendered in Node): the Dolan–Moré performance profile and the
// post-hoc test's adjusted p-values with Demšar's groups.
import { requireOptional } from '../../src/optional';
import type { ArchSummary } from './run';
import { groups } from './stats';

const optional = <T>(name: string): T =>
  requireOptional<T>(name, 'the experiment charts', 'npm install --no-save vega@5 vega-lite@5, or skip them with --no-charts');

/** Fails now, naming what to install, when the charts' packages are missing (before a long run). */
export function checkChartPackages(): void {
  optional('vega');
  optional('vega-lite');
}

async function render(spec: object): Promise<string> {
  const vega = optional<typeof import('vega')>('vega');
  const vegaLite = optional<typeof import('vega-lite')>('vega-lite');
  const compiled = vegaLite.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: { font: 'sans-serif', padding: 12 },
    ...spec,
  } as never).spec;
  return new vega.View(vega.parse(compiled), { renderer: 'none' }).toSVG();
}

/** ρ_m(τ) per architecture: one panel per architecture, one step line per method. */
export function profileChart(
  curves: Array<{ arch: string; method: string; tau: number; fraction: number }>,
  subtitle: string,
): Promise<string> {
  return render({
    title: { text: 'Performance profile (Dolan–Moré): share of data sets within τ of the best accuracy', subtitle },
    data: { values: curves },
    facet: { column: { field: 'arch', type: 'nominal', title: null } },
    spec: {
      width: 340,
      height: 260,
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
      encoding: {
        x: { field: 'tau', type: 'quantitative', title: 'τ (accuracy ≥ τ × best)', scale: { zero: false } },
        y: { field: 'fraction', type: 'quantitative', title: 'fraction of data sets', scale: { domain: [0, 1] } },
        color: { field: 'method', type: 'nominal', title: 'method', sort: null },
        strokeDash: { field: 'method', type: 'nominal', sort: null },
      },
    },
  });
}

/**
 * Per architecture, a matrix of Conover's BH-adjusted p-values (methods in mean-rank order; a
 * cell under 0.05 is a significant difference), and Demšar's groups of methods that are not.
 */
export function posthocChart(summary: Record<string, ArchSummary>): Promise<string> {
  const cells: object[] = [];
  const lines: object[] = [];
  for (const [arch, s] of Object.entries(summary)) {
    const ranks = Object.fromEntries(Object.entries(s.methods).map(([m, v]) => [m, v.meanRank]));
    const order = Object.keys(ranks).sort((a, b) => ranks[a] - ranks[b]);
    const label = (m: string) => `${m} (${ranks[m].toFixed(2)})`;
    for (const a of order) {
      for (const b of order) {
        if (a === b) continue;
        const p = s.conover.find((q) => (q.a === a && q.b === b) || (q.a === b && q.b === a));
        if (p) cells.push({ arch, a: label(a), b: label(b), p: p.pAdjusted, significant: p.pAdjusted < 0.05 ? '< 0.05' : '≥ 0.05' });
      }
    }
    groups(order, ranks, s.conover).forEach((g, k) => lines.push({ arch, group: `group ${k + 1}: ${g.join(', ')}` }));
  }
  const methodsOrder = (arch: string) => {
    const s = summary[arch];
    return Object.keys(s.methods)
      .sort((a, b) => s.methods[a].meanRank - s.methods[b].meanRank)
      .map((m) => `${m} (${s.methods[m].meanRank.toFixed(2)})`);
  };
  const panels = Object.keys(summary).map((arch) => ({
    title: `${arch}: Conover p (BH-adjusted); methods by mean rank`,
    vconcat: [
      {
        width: 260,
        height: 260,
        data: { values: cells.filter((c) => (c as { arch: string }).arch === arch) },
        encoding: {
          x: { field: 'a', type: 'nominal', sort: methodsOrder(arch), title: null, axis: { labelAngle: -40 } },
          y: { field: 'b', type: 'nominal', sort: methodsOrder(arch), title: null },
        },
        layer: [
          {
            mark: 'rect',
            encoding: {
              color: {
                field: 'significant',
                type: 'nominal',
                title: 'adjusted p',
                scale: { domain: ['< 0.05', '≥ 0.05'], range: ['#d6604d', '#d1e5f0'] },
              },
            },
          },
          { mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'p', type: 'quantitative', format: '.2g' } } },
        ],
      },
      {
        width: 260,
        height: { step: 16 },
        data: {
          values: lines
            .filter((c) => (c as { arch: string }).arch === arch)
            .concat(
              lines.some((c) => (c as { arch: string }).arch === arch) ? [] : [{ arch, group: 'no two methods are indistinguishable' }],
            ),
        },
        mark: { type: 'text', align: 'left', x: 0, fontSize: 11 },
        encoding: { y: { field: 'group', type: 'nominal', axis: null }, text: { field: 'group' } },
        title: { text: 'not significantly different (adjusted p ≥ 0.05)', fontSize: 11, anchor: 'start' },
      },
    ],
  }));
  return render({ hconcat: panels });
}
