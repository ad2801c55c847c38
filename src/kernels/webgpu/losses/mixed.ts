// α·CE + β·EL in WGSL (native/core/losses/mixed.h): linear in the targets.
import type { WgslKind } from '../wgsl/row_math';

export const mixed: WgslKind = {
  name: 'mixed',
  params: ['alpha', 'beta'],
  linear: true,
  code: 'fn kind_linear() -> Linear { return Linear(uniforms.p_alpha, uniforms.p_beta); }',
};
