// A seeded, stratified split of a data set into training, validation and test rows: the same
// for every method and architecture of a seed.

/** A small deterministic generator (mulberry32): the same stream on every machine. */
export function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

export interface Split {
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
}

/** The split's fractions of each class: 60% training, 20% validation, 20% test. */
export const FRACTIONS = { validation: 0.2, test: 0.2 };

/**
 * Per class, its rows shuffled by the seed, then round(20%) to the test set, round(20%) to the
 * validation set and the rest (at least one) to training; each part sorted by row.
 */
export function stratifiedSplit(y: Int32Array, seed: number, salt: string): Split {
  const random = generator(hash(`${salt}/${seed}`));
  const byClass = new Map<number, number[]>();
  y.forEach((c, r) => {
    const rows = byClass.get(c);
    if (rows) rows.push(r);
    else byClass.set(c, [r]);
  });
  const parts = { train: [] as number[], validation: [] as number[], test: [] as number[] };
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = shuffle(byClass.get(c)!, random);
    const n = rows.length;
    const test = Math.min(Math.round(n * FRACTIONS.test), Math.max(0, n - 1));
    const validation = Math.min(Math.round(n * FRACTIONS.validation), Math.max(0, n - 1 - test));
    parts.test.push(...rows.slice(0, test));
    parts.validation.push(...rows.slice(test, test + validation));
    parts.train.push(...rows.slice(test + validation));
  }
  const sorted = (a: number[]) => Int32Array.from(a.sort((p, q) => p - q));
  return { train: sorted(parts.train), validation: sorted(parts.validation), test: sorted(parts.test) };
}

/** FNV-1a of a string, to seed a generator from a name and a seed. */
export function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
