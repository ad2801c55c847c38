// `mixloss focus-curves`: the paper's Fig. 1 — the loss and |∂L/∂q_y| against p_y for each
// focus F — as a table on stdout and, with --svg, a chart.
import type { FocusCurve } from '../src/analysis';
import { requireOptional } from '../src/optional';

const SHOWN = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9];

/** The curves at a few values of p_y, and where each gradient peaks. */
export function curvesTable(curves: FocusCurve[]): string {
  const at = (c: FocusCurve, v: number[], q: number) => v[c.p.findIndex((x) => Math.abs(x - q) < 1e-9)];
  const lines = [
    `| F | α | β | peak of \\|∂L/∂q_y\\| at p_y | ${SHOWN.map((q) => `\\|∂L/∂q_y\\| at ${q}`).join(' | ')} |`,
    `|---:|---:|---:|---:|${SHOWN.map(() => '---:').join('|')}|`,
  ];
  for (const c of curves) {
    const peak = c.p[c.gradient.indexOf(Math.max(...c.gradient))];
    lines.push(
      `| ${c.F} | ${c.alpha.toFixed(3)} | ${c.beta.toFixed(3)} | ${c.F === 0 ? '0 (p_y → 0)' : peak.toFixed(2)} | ${SHOWN.map((q) => at(c, c.gradient, q).toFixed(3)).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

export async function curvesChart(curves: FocusCurve[]): Promise<string> {
  const vega = requireOptional<typeof import('vega')>('vega', 'mixloss focus-curves --svg', 'npm install --no-save vega@5 vega-lite@5');
  const vegaLite = requireOptional<typeof import('vega-lite')>(
    'vega-lite',
    'mixloss focus-curves --svg',
    'npm install --no-save vega@5 vega-lite@5',
  );
  const values = curves.flatMap((c) =>
    c.p.flatMap((p, i) => [
      { F: `F = ${c.F}`, p, panel: 'loss α·CE + β·EL', value: c.loss[i] },
      { F: `F = ${c.F}`, p, panel: '|∂L/∂q_y| = (α + β·p_y)(1 − p_y)', value: c.gradient[i] },
    ]),
  );
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: 'The focus F moves the peak of the true-class gradient to p_y = F',
      subtitle: 'α = 1, β = 1/(1 − 2F); F = 0.5: α = 0, β = 1 (Battash, Hazan & Wolf, Fig. 1 and Eq. 14)',
    },
    data: { values },
    transform: [{ filter: 'datum.value <= 6' }],
    facet: { column: { field: 'panel', type: 'nominal', title: null, sort: 'descending' } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 320,
      height: 240,
      mark: { type: 'line', strokeWidth: 2 },
      encoding: {
        x: { field: 'p', type: 'quantitative', title: 'p_y, the true class’s probability' },
        y: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'F', type: 'nominal', title: 'focus', scale: { scheme: 'viridis' } },
      },
    },
    config: { font: 'sans-serif', padding: 12 },
  };
  const compiled = vegaLite.compile(spec as never).spec;
  return new vega.View(vega.parse(compiled), { renderer: 'none' }).toSVG();
}
