// picomatch, loaded when a pattern first needs it: a CommonJS package of six files that a command matching no
// glob (a `verify` of plain paths, a `plan` without systemd matches) never has to load.
import { createRequire } from 'node:module';
import type Picomatch from 'picomatch';

let loaded: typeof Picomatch | undefined;

/** The picomatch module, required on first use and kept. */
export function loadPicomatch(): typeof Picomatch {
  loaded ??= createRequire(import.meta.url)('picomatch') as typeof Picomatch;
  return loaded;
}
