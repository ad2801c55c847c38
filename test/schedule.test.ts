// Eq. 14 and the paper's schedules, including the boundaries of the authors' code.
import { describe, expect, it } from 'vitest';

import { focusSchedule, focusToWeights, peakGradient } from '../src';

describe('focusToWeights (Eq. 14)', () => {
  it('gives the spec values', () => {
    expect(focusToWeights(0)).toEqual({ alpha: 1, beta: 1 });
    expect(focusToWeights(0.1).beta).toBeCloseTo(1.25, 12);
    expect(focusToWeights(0.2).beta).toBeCloseTo(1.6667, 4);
    expect(focusToWeights(0.3).beta).toBeCloseTo(2.5, 12);
    expect(focusToWeights(0.4).beta).toBeCloseTo(5, 12);
    expect(focusToWeights(0.5)).toEqual({ alpha: 0, beta: 1 });
  });

  it('puts the peak of |dL/dq_y| = (α + β p)(1 − p) at p = F', () => {
    for (const F of [0.05, 0.1, 0.25, 0.4, 0.45]) {
      const { alpha, beta } = focusToWeights(F);
      let best = 0,
        argmax = 0;
      for (let i = 0; i <= 100000; i++) {
        const p = i / 100000,
          g = (alpha + beta * p) * (1 - p);
        if (g > best) {
          best = g;
          argmax = p;
        }
      }
      expect(argmax).toBeCloseTo(F, 4);
      expect(peakGradient({ alpha, beta })).toBeCloseTo(best, 8);
    }
  });

  it('peakGradient when β ≤ α: the peak is at p_y = 0, where it is α', () => {
    expect(peakGradient({ alpha: 1, beta: 0.5 })).toBe(1);
    expect(peakGradient({ alpha: 2, beta: 0 })).toBe(2);
    expect(peakGradient({ alpha: 1, beta: 1 })).toBe(1);
    expect(peakGradient({ alpha: 1, beta: 3 })).toBeCloseTo(16 / 12, 12);
  });

  it('peak gradients of the phases: 1, 1.0125, 1.0667, 1.225, 1.8, 0.25; normalizePeak makes them 1', () => {
    const peaks = [0, 0.1, 0.2, 0.3, 0.4, 0.5].map((F) => peakGradient(focusToWeights(F)));
    [1, 1.0125, 1.0667, 1.225, 1.8, 0.25].forEach((p, i) => expect(peaks[i]).toBeCloseTo(p, 4));
    for (const F of [0, 0.3, 0.5]) expect(peakGradient(focusToWeights(F, { normalizePeak: true }))).toBeCloseTo(1, 12);
  });
});

describe('focusSchedule', () => {
  it("'F=0' is α = β = 1 throughout", () => {
    const s = focusSchedule('F=0');
    for (const p of [0, 0.5, 1]) expect(s.at(p)).toEqual({ F: 0, alpha: 1, beta: 1 });
  });

  it("'F=0,0.5' switches to α = 0, β = 1 for the last 5%", () => {
    const s = focusSchedule('F=0,0.5');
    expect(s.at(0.9499).F).toBe(0);
    expect(s.at(0.95)).toEqual({ F: 0.5, alpha: 0, beta: 1 });
    expect(s.atStep(94, 100).F).toBe(0);
    expect(s.atStep(95, 100).F).toBe(0.5);
  });

  it("'F=0-0.5' has six equal phases, boundaries exact for 240 epochs", () => {
    const s = focusSchedule('F=0-0.5');
    const starts = [0, 40, 80, 120, 160, 200];
    starts.forEach((e, k) => {
      expect(s.atStep(e, 240).F).toBe([0, 0.1, 0.2, 0.3, 0.4, 0.5][k]);
      if (e > 0) expect(s.atStep(e - 1, 240).F).toBe([0, 0.1, 0.2, 0.3, 0.4, 0.5][k - 1]);
    });
    expect(s.at(1)).toEqual({ F: 0.5, alpha: 0, beta: 1 });
  });

  it("reproduces the authors' epoch boundaries (N = 90 and N = 200)", () => {
    const two = focusSchedule('F=0,0.5');
    expect(two.atEpochAuthors(84, 90).F).toBe(0);
    expect(two.atEpochAuthors(85, 90).F).toBe(0.5);
    const six = focusSchedule('F=0-0.5');
    const firstEpochOf = (k: number) =>
      Array.from({ length: 200 }, (_, e) => e).find((e) => six.atEpochAuthors(e, 200).F === [0, 0.1, 0.2, 0.3, 0.4, 0.5][k]);
    expect([0, 1, 2, 3, 4, 5].map(firstEpochOf)).toEqual([0, 33, 67, 100, 134, 167]);
  });

  it('custom phases and equal phases of given F values', () => {
    const s = focusSchedule({
      phases: [
        { F: 0, until: 0.5 },
        { F: 0.25, until: 1 },
      ],
    });
    expect(s.at(0.49).F).toBe(0);
    expect(s.at(0.5).F).toBe(0.25);
    expect(s.at(0.5).beta).toBeCloseTo(2, 12);
    expect(focusSchedule([0, 0.4]).at(0.6).F).toBe(0.4);
    expect(() => focusSchedule({ phases: [{ F: 0, until: 0.5 }] })).toThrow(/last phase must end at 1/);
    expect(() =>
      focusSchedule({
        phases: [
          { F: 0, until: 0.5 },
          { F: 0.1, until: 0.4 },
        ],
      }),
    ).toThrow(/until must be a number increasing within/);
  });
});
