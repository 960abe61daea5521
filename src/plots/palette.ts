/**
 * Method colours and names, the same in every figure. Okabe-Ito colours stay
 * distinguishable for colour-blind readers; multicue gets the strongest one.
 */
import { KNOWN_METHODS } from '../experiments/results-schema.ts';

const OKABE_ITO = ['#D55E00', '#0072B2', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];

const KNOWN_COLOURS: Record<string, string> = {
  multicue: '#D55E00',
  adl: '#0072B2',
  patchcore: '#009E73',
  padim: '#CC79A7',
};

const DISPLAY_NAMES: Record<string, string> = {
  multicue: 'Multi-cue (ours)',
  adl: 'ADL',
  patchcore: 'PatchCore',
  padim: 'PaDiM',
};

const SYMBOLS = ['circle', 'square', 'diamond', 'triangle-up', 'cross', 'x', 'star', 'hexagon'] as const;
export type MethodSymbol = (typeof SYMBOLS)[number];

/** A method's colour: fixed for known methods, then the unused palette colours in order of first use. */
export function methodColour(method: string, allMethods: readonly string[] = []): string {
  if (KNOWN_COLOURS[method]) return KNOWN_COLOURS[method];
  const free = OKABE_ITO.filter((c) => !Object.values(KNOWN_COLOURS).includes(c));
  const others = allMethods.filter((m) => !KNOWN_COLOURS[m]);
  const index = Math.max(0, others.indexOf(method));
  return free[index % free.length];
}

export function methodName(method: string): string {
  return DISPLAY_NAMES[method] ?? method;
}

export function methodSymbol(method: string, allMethods: readonly string[]): MethodSymbol {
  const known = (KNOWN_METHODS as readonly string[]).indexOf(method);
  const index = known >= 0 ? known : KNOWN_METHODS.length + Math.max(0, allMethods.indexOf(method));
  return SYMBOLS[index % SYMBOLS.length];
}

/** Nominal vs anomalous in the score-distribution figure. */
export const LABEL_COLOURS = { nominal: '#0072B2', anomalous: '#D55E00' };
