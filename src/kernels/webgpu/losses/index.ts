// The WGSL side of the registry of loss kinds: one file per kind beside this one, and this
// list. A kind the native registry has and this list lacks fails its op on the webgpu backend
// with an Error that names it (and test/webgpu-kinds.test.ts fails).
import type { WgslKind } from '../wgsl/row_math';
import { complementEntropy } from './complement_entropy';
import { focal } from './focal';
import { generalizedCE } from './generalized_ce';
import { mae } from './mae';
import { mixed } from './mixed';
import { mpce } from './mpce';
import { tamedCE } from './tamed_ce';

export const WGSL_KINDS: ReadonlyMap<string, WgslKind> = new Map(
  [mixed, mae, focal, generalizedCE, tamedCE, mpce, complementEntropy].map((k) => [k.name, k]),
);
