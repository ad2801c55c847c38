// The public types as a TypeScript user meets them: test/types/consumer.ts must compile under
// the package's strict settings (reducing losses are Scalars for optimizer.minimize and
// tf.variableGrads, per-row losses are not, unknown options are type errors).
import { spawnSync } from 'child_process';
import * as path from 'path';

import { describe, expect, it } from 'vitest';

describe('public types', () => {
  it('test/types/consumer.ts type-checks (tsc --noEmit)', () => {
    const root = path.join(__dirname, '..');
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(__dirname, 'types', 'tsconfig.json')],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 150_000);
});
