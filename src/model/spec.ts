import type { Backbone } from '../backbones/types.ts';
import type { ModelConfig } from '../training/config.ts';

/**
 * What a MultiCue model was built for: the backbone (name, exact weights, tap
 * layout) and the square input size. Saved with the parameters; a model is
 * only ever used with the backbone and size it was trained for.
 */
export interface BackboneIdentity {
  name: string;
  weightsId: string;
  tapChannels: [number, number, number];
  tapStrides: [number, number, number];
}

export interface ModelSpec {
  backbone: BackboneIdentity;
  /** Side of the square input images. */
  imageSize: number;
  /** Top fraction of patches in φ. */
  kappa: number;
  segmentationHead: 'full' | 'lite';
  liteUpsampleBlocks: number;
  segmentationChannels: number;
  /** 1×1 projection width before the segmentation decoder (0: none). Absent in older saved models: 0. */
  segmentationProjection?: number;
  /** Hidden width of the deviation head's patch scorer (0: METHOD's single 1×1 conv). Absent in older saved models: 0. */
  deviationHidden?: number;
  /** Pooling of the stride-32 tap before the classifier. Absent in older saved models: 'mean'. */
  uncertaintyPooling?: UncertaintyPooling;
}

/** 'mean': METHOD's global average pool; 'mean+max': average and max pools concatenated (ours). */
export type UncertaintyPooling = 'mean' | 'mean+max';

export function backboneIdentity(backbone: Backbone): BackboneIdentity {
  return {
    name: backbone.name,
    weightsId: backbone.weightsId,
    tapChannels: [...backbone.tapChannels],
    tapStrides: [...backbone.tapStrides],
  };
}

export function modelSpec(backbone: BackboneIdentity, imageSize: number, config: ModelConfig): ModelSpec {
  return {
    backbone,
    imageSize,
    kappa: config.kappa,
    segmentationHead: config.segmentationHead,
    liteUpsampleBlocks: config.liteUpsampleBlocks,
    segmentationChannels: config.segmentationChannels,
    segmentationProjection: config.segmentationProjection,
    uncertaintyPooling: config.uncertaintyPooling,
    deviationHidden: config.deviationHidden,
  };
}

/** Side of the multi-scale grid (the stride-8 tap's) for an input size. */
export function gridSize(spec: ModelSpec): number {
  return Math.ceil(spec.imageSize / spec.backbone.tapStrides[0]);
}

/** Upsampling blocks of the segmentation decoder: enough to reach input size (full) or fewer (lite). */
export function upsampleBlocks(spec: ModelSpec): number {
  const full = Math.max(0, Math.round(Math.log2(spec.backbone.tapStrides[0])));
  return spec.segmentationHead === 'full' ? full : Math.min(full, spec.liteUpsampleBlocks);
}

/** Side of the segmentation head's own output before any resize. */
export function segmentationOutputSize(spec: ModelSpec): number {
  return gridSize(spec) * 2 ** upsampleBlocks(spec);
}

/** Why a model cannot be used with this backbone / size, or null when it can. */
export function specMismatch(spec: ModelSpec, backbone: BackboneIdentity, imageSize?: number): string | null {
  const problems: string[] = [];
  if (spec.backbone.name !== backbone.name) problems.push(`backbone "${spec.backbone.name}" (now "${backbone.name}")`);
  else if (spec.backbone.weightsId !== backbone.weightsId) {
    problems.push(`weights ${spec.backbone.weightsId} of ${spec.backbone.name} (now ${backbone.weightsId})`);
  }
  if (spec.backbone.tapChannels.join() !== backbone.tapChannels.join()) {
    problems.push(`tap channels ${spec.backbone.tapChannels.join('/')} (now ${backbone.tapChannels.join('/')})`);
  }
  if (imageSize !== undefined && imageSize !== spec.imageSize) {
    problems.push(`image size ${spec.imageSize} (now ${imageSize})`);
  }
  return problems.length ? `the model was trained for ${problems.join(', ')}` : null;
}
