// The public API the notebooks and other programs import.
export { Rng } from './util/rng.ts';
export { initBackend, environmentReport } from './engine/backend.ts';
export type { BackendName } from './engine/backend.ts';
