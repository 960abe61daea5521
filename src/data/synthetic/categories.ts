import { InputError } from '../../util/errors.ts';
import { carpet } from './carpet.ts';
import type { SyntheticCategory } from './category.ts';
import { pill } from './pill.ts';
import { washer } from './washer.ts';
import { wood } from './wood.ts';

/** Every category of the embedded synthetic dataset: two textures, two objects. */
export const SYNTHETIC_CATEGORIES: readonly SyntheticCategory[] = [carpet, wood, washer, pill];

export function syntheticCategory(name: string): SyntheticCategory {
  const found = SYNTHETIC_CATEGORIES.find((c) => c.name === name);
  if (!found) {
    throw new InputError(
      `unknown synthetic category "${name}"`,
      undefined,
      `use one or more of: ${SYNTHETIC_CATEGORIES.map((c) => c.name).join(', ')}`,
    );
  }
  return found;
}
