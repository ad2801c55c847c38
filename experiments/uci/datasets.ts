// The 18 UCI classification sets the runner knows: where each comes from, its published size,
// and the CSV reader (the files in data/ are written once by convert.sh).
import * as fs from 'fs';
import * as path from 'path';

export interface DatasetInfo {
  name: string;
  /** Where the CSV comes from (the Debian package and the object in it). */
  source: string;
  /** The UCI repository's row and class counts. */
  rows: number;
  classes: number;
}

const mlbench = (object: string) => `UCI via R mlbench::${object} (Debian r-cran-mlbench)`;
const sklearn = (loader: string) => `UCI via sklearn.datasets.${loader} (Debian python3-sklearn)`;

/** The runner's data sets, in the order of its tables. */
export const DATASETS: readonly DatasetInfo[] = [
  { name: 'iris', source: sklearn('load_iris'), rows: 150, classes: 3 },
  { name: 'wine', source: sklearn('load_wine'), rows: 178, classes: 3 },
  { name: 'breast-cancer-wisconsin-diagnostic', source: sklearn('load_breast_cancer'), rows: 569, classes: 2 },
  { name: 'digits', source: sklearn('load_digits'), rows: 1797, classes: 10 },
  { name: 'breast-cancer', source: mlbench('BreastCancer'), rows: 699, classes: 2 },
  { name: 'dna', source: mlbench('DNA'), rows: 3186, classes: 3 },
  { name: 'glass', source: mlbench('Glass'), rows: 214, classes: 6 },
  { name: 'house-votes-84', source: mlbench('HouseVotes84'), rows: 435, classes: 2 },
  { name: 'ionosphere', source: mlbench('Ionosphere'), rows: 351, classes: 2 },
  { name: 'letter', source: mlbench('LetterRecognition'), rows: 20000, classes: 26 },
  { name: 'pima', source: mlbench('PimaIndiansDiabetes'), rows: 768, classes: 2 },
  { name: 'satellite', source: mlbench('Satellite'), rows: 6435, classes: 6 },
  { name: 'shuttle', source: mlbench('Shuttle'), rows: 58000, classes: 7 },
  { name: 'sonar', source: mlbench('Sonar'), rows: 208, classes: 2 },
  { name: 'soybean', source: mlbench('Soybean'), rows: 683, classes: 19 },
  { name: 'vehicle', source: mlbench('Vehicle'), rows: 846, classes: 4 },
  { name: 'vowel', source: mlbench('Vowel'), rows: 990, classes: 11 },
  { name: 'zoo', source: mlbench('Zoo'), rows: 101, classes: 7 },
];

export interface Dataset {
  info: DatasetInfo;
  /** Feature names after encoding (one-hot columns named `feature=level`). */
  features: string[];
  /** [rows, features], NaN where the value is missing. */
  x: Float64Array;
  /** Class ids 0..C−1, in the sorted order of the class names. */
  y: Int32Array;
  classNames: string[];
  rows: number;
}

/** experiments/uci/data of the repository, from the sources or from their build in dist/. */
export const DATA_DIR = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'experiments', 'uci', 'data');
})();

/** Reads `name`.csv from dir and checks it against the published row and class counts. */
export function loadDataset(name: string, dir = DATA_DIR): Dataset {
  const info = DATASETS.find((d) => d.name === name);
  if (!info) throw new Error(`unknown data set '${name}'; known: ${DATASETS.map((d) => d.name).join(', ')}`);
  const file = path.join(dir, `${name}.csv`);
  if (!fs.existsSync(file))
    throw new Error(`${file} is missing: run experiments/uci/convert.sh once (it needs r-cran-mlbench and python3-sklearn)`);
  const lines = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  const header = splitCsv(lines[0]);
  if (header[header.length - 1] !== 'class')
    throw new Error(`${file}: the last column must be 'class', got '${header[header.length - 1]}'`);
  const features = header.slice(0, -1);
  const rows = lines.length - 1;
  const x = new Float64Array(rows * features.length);
  const names: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells = splitCsv(lines[r + 1]);
    if (cells.length !== header.length) throw new Error(`${file}:${r + 2}: ${cells.length} cells, expected ${header.length}`);
    for (let j = 0; j < features.length; j++) x[r * features.length + j] = cells[j] === '' ? NaN : Number(cells[j]);
    names.push(cells[features.length]);
  }
  const classNames = [...new Set(names)].sort();
  const id = new Map(classNames.map((c, i) => [c, i]));
  const y = Int32Array.from(names, (c) => id.get(c)!);
  if (rows !== info.rows || classNames.length !== info.classes) {
    throw new Error(`${file}: ${rows} rows and ${classNames.length} classes, the UCI set has ${info.rows} and ${info.classes}`);
  }
  return { info, features, x, y, classNames, rows };
}

function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cell);
      cell = '';
    } else cell += ch;
  }
  out.push(cell);
  return out;
}

/**
 * Standardizes with the training rows' statistics (Klambauer et al. standardize every feature):
 * (x − mean) / std, a missing value becomes 0 (the training mean), a constant column 0.
 */
export function standardize(data: Dataset, train: Int32Array): Float32Array {
  const F = data.features.length;
  const out = new Float32Array(data.rows * F);
  for (let j = 0; j < F; j++) {
    let sum = 0;
    let count = 0;
    for (const r of train) {
      const v = data.x[r * F + j];
      if (Number.isNaN(v)) continue;
      sum += v;
      count++;
    }
    const mean = count > 0 ? sum / count : 0;
    let sq = 0;
    for (const r of train) {
      const v = data.x[r * F + j];
      if (!Number.isNaN(v)) sq += (v - mean) * (v - mean);
    }
    const std = count > 1 ? Math.sqrt(sq / (count - 1)) : 0;
    for (let r = 0; r < data.rows; r++) {
      const v = data.x[r * F + j];
      out[r * F + j] = Number.isNaN(v) || !(std > 0) ? 0 : (v - mean) / std;
    }
  }
  return out;
}
