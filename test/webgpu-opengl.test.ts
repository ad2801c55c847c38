// The webgpu suite on Dawn's OpenGL backend at WebGPU's compatibility feature level (a GPU's GL
// driver, or Mesa's llvmpipe through EGL in CI: no subgroups, so every statistics merge takes
// the plain path). Its own file: a process has one Dawn instance (support/webgpu-suite.ts).
import { webgpuSuite } from './support/webgpu-suite';

await webgpuSuite('opengl');
