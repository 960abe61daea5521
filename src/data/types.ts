/** Shared data types: every loader, the protocol and the trainer speak these. */

/** How an image of any aspect ratio becomes a square of `size` pixels. */
export type ResizeMode = 'stretch' | 'center-crop' | 'letterbox';
export const RESIZE_MODES: readonly ResizeMode[] = ['stretch', 'center-crop', 'letterbox'];

export interface ImageGeometry {
  /** Side of the square the image is brought to (default 256). */
  size: number;
  /** stretch, resize-then-center-crop (the paper's), or letterbox pad. */
  resize: ResizeMode;
}
export const DEFAULT_GEOMETRY: ImageGeometry = { size: 256, resize: 'center-crop' };

/** Float RGB image, HWC interleaved, values in [0, 1]. */
export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** Binary pixel mask (0 or 1), row-major. */
export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}

export type Split = 'train' | 'test';

export interface DatasetItem {
  /** Stable id, unique within the dataset, e.g. "test/crack/003". */
  id: string;
  /** Absolute path of the image file. */
  path: string;
  split: Split;
  /** 0 nominal, 1 anomalous. */
  label: 0 | 1;
  /** "good" for nominal images, else the defect class. */
  defect: string;
  /** Absolute path of the pixel mask; null for nominal images or a missing mask. */
  maskPath: string | null;
}

export type DatasetFormat = 'mvtec' | 'visa' | 'folder';

export interface Dataset {
  format: DatasetFormat;
  /** Category name (e.g. "bottle", "magnetic-tile"). */
  category: string;
  root: string;
  items: DatasetItem[];
  /** Non-fatal problems found while loading (anomaly without mask, ...). */
  warnings: string[];
}
