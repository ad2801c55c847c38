// tfjs-layers' Callback, when tfjs-layers is installed (an optional peer: a project with
// tfjs-core and a backend only must still load mixloss). Without it a callback is a class
// whose constructor says what to install.
import type { Callback } from '@tensorflow/tfjs-layers';

export function callbackBase(name: string): typeof Callback {
  try {
    return (require('@tensorflow/tfjs-layers') as typeof import('@tensorflow/tfjs-layers')).Callback;
  } catch {
    return class {
      constructor() {
        throw new Error(
          `mixloss.${name} needs @tensorflow/tfjs-layers (model.fit): ` +
            'npm install @tensorflow/tfjs-layers, or @tensorflow/tfjs which includes it',
        );
      }
    } as unknown as typeof Callback;
  }
}
