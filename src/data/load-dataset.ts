import { loadFolder } from './folder.ts';
import { loadMvtec } from './mvtec.ts';
import type { DataSpec } from './spec.ts';
import type { Dataset } from './types.ts';
import { loadVisa } from './visa.ts';

/**
 * List a dataset's images, labels and masks from a validated spec (see
 * `parseDataSpec` / `dataSpecFromOptions`). Fast: no pixel is decoded; run
 * `checkDataset` (or `multicue data inspect --check`) for that.
 */
export function loadDataset(spec: DataSpec): Dataset {
  switch (spec.format) {
    case 'mvtec':
      return loadMvtec(spec);
    case 'visa':
      return loadVisa(spec);
    case 'folder':
      return loadFolder(spec);
  }
}
