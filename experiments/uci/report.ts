// report.md beside results.json: the paper's Table 4 and ours, the per-data-set accuracies, the
// Friedman and post-hoc tests, and the charts.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Method, PAPER_LABEL } from './methods';
import { accuracyTable, Results } from './run';
import { groups, performanceProfile } from './stats';
import type { Arch } from './train';

/** The paper's Table 4 (121 UCI data sets, two seeds), quoted as published. */
export const PAPER_TABLE4: Record<Arch, Record<Method, { wins: number; deltaAccuracy: number; meanRank: number }>> = {
  linear: {
    ce: { wins: 33, deltaAccuracy: 0, meanRank: 2.59 },
    'F=0': { wins: 32, deltaAccuracy: 0.09, meanRank: 2.39 },
    'F=0,0.5': { wins: 31, deltaAccuracy: 0.2, meanRank: 2.3 },
    'F=0-0.5': { wins: 48, deltaAccuracy: 0.3, meanRank: 2.12 },
    el: { wins: 33, deltaAccuracy: -2.71, meanRank: 3.25 },
    focal: { wins: 26, deltaAccuracy: -0.56, meanRank: 3.13 },
  },
  mlp: {
    ce: { wins: 26, deltaAccuracy: 0, meanRank: 2.7 },
    'F=0': { wins: 30, deltaAccuracy: 0.12, meanRank: 2.62 },
    'F=0,0.5': { wins: 37, deltaAccuracy: 0.27, meanRank: 2.4 },
    'F=0-0.5': { wins: 42, deltaAccuracy: 0.3, meanRank: 2.37 },
    el: { wins: 33, deltaAccuracy: -4.73, meanRank: 3.52 },
    focal: { wins: 25, deltaAccuracy: -0.89, meanRank: 3.03 },
  },
};

const ARCH_TITLE: Record<Arch, string> = { linear: 'Linear classifier (I × C)', mlp: 'One hidden ReLU layer (I × I, then I × C)' };

export interface ReportContext {
  dir: string;
  command: string;
  seconds: number;
  backend: string;
  charts: boolean;
}

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const pfmt = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

export function profileTaus(results: Results): number[] {
  let lowest = 1;
  for (const arch of results.settings.archs) {
    for (const row of accuracyTable(
      results.runs,
      results.datasets.map((d) => d.name),
      arch,
      results.settings.methods,
    )) {
      const best = Math.max(...row);
      for (const v of row) if (best > 0) lowest = Math.min(lowest, v / best);
    }
  }
  const from = Math.max(0, Math.floor(lowest * 100) / 100 - 0.01);
  const steps = 200;
  return Array.from({ length: steps + 1 }, (_, i) => from + ((1 - from) * i) / steps);
}

export async function writeReport(results: Results, ctx: ReportContext): Promise<void> {
  const { archs, methods } = results.settings;
  const names = results.datasets.map((d) => d.name);
  const out: string[] = [];
  const minutes = ctx.seconds / 60;
  out.push('# Does the mixing help? The UCI experiment of Battash, Hazan & Wolf, rerun');
  out.push('');
  out.push(`Command: \`${ctx.command}\``);
  out.push('');
  out.push(
    `${results.datasets.length} data sets; architectures ${archs.join(', ')}; methods ${methods.join(', ')}; seeds ${results.settings.seedsUsed.join(', ')}; ` +
      `${results.settings.epochs} epochs, mini-batches of ${results.settings.batchSize}, SGD with momentum ${results.settings.momentum}, ` +
      `learning rates ${results.settings.learningRates.join(', ')} (per method, data set and seed, the learning rate and the epoch with the best validation accuracy; its test accuracy is reported). ` +
      `Split: ${results.settings.split}, the same for every method and architecture of a seed.`,
  );
  out.push('');
  out.push(
    `Ran in ${minutes.toFixed(1)} min on ${os.cpus()[0]?.model ?? 'an unknown CPU'} (${os.cpus().length} cores), tfjs ${ctx.backend} backend, Node ${process.versions.node}.`,
  );
  out.push('');
  out.push("## Summary beside the paper's Table 4");
  out.push('');
  out.push(
    `The paper's numbers are theirs (121 UCI data sets, their splits and learning-rate sweep); ours are over the ${results.datasets.length} data sets above. ` +
      'Wins: data sets where the method is at or above every other (ties count for each). Δacc: mean over data sets of (method − CE) in percentage points. Mean rank: 1 is best; ties share the average rank.',
  );
  for (const arch of archs) {
    const s = results.summary[arch];
    out.push('');
    out.push(`### ${ARCH_TITLE[arch]}`);
    out.push('');
    out.push('| method | paper #wins | paper Δacc | paper mean rank | our #wins | our Δacc | our mean rank |');
    out.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const m of methods) {
      const p = PAPER_TABLE4[arch][m];
      const o = s.methods[m];
      out.push(
        `| ${PAPER_LABEL[m]} | ${p.wins} | ${fmt(p.deltaAccuracy)} | ${fmt(p.meanRank)} | ${o.wins} | ${fmt(o.deltaAccuracy)} | ${fmt(o.meanRank)} |`,
      );
    }
    out.push('');
    if (s.friedman) {
      out.push(
        `Friedman test (tie-corrected χ², ${methods.length - 1} degrees of freedom): statistic ${fmt(s.friedman.statistic, 3)}, p = ${pfmt(s.friedman.pValue)}.`,
      );
      const ranks = Object.fromEntries(methods.map((m) => [m, s.methods[m].meanRank]));
      const g = groups(methods, ranks, s.conover);
      out.push('');
      out.push(
        `Conover's post-hoc test, Benjamini–Hochberg adjusted: ${s.conover.filter((q) => q.pAdjusted < 0.05).length} of ${s.conover.length} pairs differ at 0.05. ` +
          (g.length > 0
            ? `Groups not significantly different (in mean-rank order): ${g.map((x) => `{${x.join(', ')}}`).join(', ')}.`
            : 'Every pair differs.'),
      );
      out.push('');
      out.push('| pair | p | p (BH) |');
      out.push('|---|---:|---:|');
      for (const q of s.conover) out.push(`| ${q.a} vs ${q.b} | ${pfmt(q.pValue)} | ${pfmt(q.pAdjusted)} |`);
    } else {
      out.push('The Friedman and post-hoc tests need at least 2 data sets and 3 methods.');
    }
  }
  out.push('');
  out.push('## Test accuracy per data set (%, mean ± std over seeds)');
  for (const arch of archs) {
    out.push('');
    out.push(`### ${ARCH_TITLE[arch]}`);
    out.push('');
    out.push(`| data set | rows | features | classes | ${methods.join(' | ')} |`);
    out.push(`|---|---:|---:|---:|${methods.map(() => '---:').join('|')}|`);
    for (const d of results.datasets) {
      const cells = methods.map((m) => {
        const acc = results.runs.filter((r) => r.dataset === d.name && r.arch === arch && r.method === m).map((r) => 100 * r.testAccuracy);
        const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
        const sd = acc.length > 1 ? Math.sqrt(acc.reduce((a, b) => a + (b - mean) * (b - mean), 0) / (acc.length - 1)) : 0;
        return `${fmt(mean, 1)} ± ${fmt(sd, 1)}`;
      });
      const row = accuracyTable(results.runs, [d.name], arch, methods)[0];
      const best = Math.max(...row);
      out.push(
        `| ${d.name} | ${d.rows} | ${d.features} | ${d.classes} | ${cells.map((c, j) => (row[j] >= best - 1e-9 ? `**${c}**` : c)).join(' | ')} |`,
      );
    }
  }
  out.push('');
  out.push('Bold: the best mean accuracy of the row (ties included).');
  if (ctx.charts) {
    const taus = profileTaus(results);
    const curves = archs.flatMap((arch) => {
      const profile = performanceProfile(accuracyTable(results.runs, names, arch, methods), taus);
      return methods.flatMap((m, j) => taus.map((tau, i) => ({ arch, method: m, tau, fraction: profile[j][i] })));
    });
    const { profileChart, posthocChart } = await import('./charts');
    fs.writeFileSync(
      path.join(ctx.dir, 'profile.svg'),
      await profileChart(
        curves,
        `${results.datasets.length} UCI data sets, test accuracy (mean over seeds ${results.settings.seedsUsed.join(', ')})`,
      ),
    );
    if (archs.some((a) => results.summary[a].conover.length > 0)) {
      fs.writeFileSync(
        path.join(ctx.dir, 'posthoc.svg'),
        await posthocChart(
          Object.fromEntries(archs.filter((a) => results.summary[a].conover.length > 0).map((a) => [a, results.summary[a]])),
        ),
      );
    }
    out.push('');
    out.push('## Charts');
    out.push('');
    out.push(
      "Performance profile (Dolan–Moré; the paper's Fig. 2): the fraction of data sets on which a method reaches at least τ times the best accuracy.",
    );
    out.push('');
    out.push('![performance profile](profile.svg)');
    if (fs.existsSync(path.join(ctx.dir, 'posthoc.svg'))) {
      out.push('');
      out.push(
        "Post-hoc test (the paper's Fig. 3): Conover p-values after Benjamini–Hochberg, and the groups of methods no pair of which differs at 0.05.",
      );
      out.push('');
      out.push('![post-hoc test](posthoc.svg)');
    }
  }
  out.push('');
  fs.writeFileSync(path.join(ctx.dir, 'report.md'), out.join('\n'));
}
