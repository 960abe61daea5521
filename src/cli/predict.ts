import type { Command } from 'commander';
import { basename, extname, join } from 'node:path';
import { readImage, writePng } from '../data/image.ts';
import { loadSavedRun } from '../pipeline/saved-run.ts';
import { predictImages } from '../pipeline/predict.ts';
import { readRunMetrics } from '../pipeline/run-dir.ts';
import { heatmapOverlay, normalizeMap } from '../plots/heatmap.ts';
import { InputError } from '../util/errors.ts';

interface PredictOptions {
  out: string;
  heatmap: boolean;
  json?: boolean;
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('score images with a trained run: fused score, the three cues, and a heatmap overlay PNG')
    .argument('<run-dir>', 'a run directory written by `multicue train`')
    .argument('<images...>', 'image files')
    .option('--out <dir>', 'where heatmap overlays go', 'predictions')
    .option('--no-heatmap', 'skip the overlays')
    .option('--json', 'print JSON lines')
    .action(async (runDir: string, files: string[], opts: PredictOptions) => {
      const run = await loadSavedRun(runDir);
      if (run.backbone.warning) process.stderr.write(`WARNING: ${run.backbone.warning}\n`);
      let threshold: number | null = null;
      try {
        threshold = readRunMetrics(runDir).threshold;
      } catch {
        threshold = null;
      }
      const geometry = run.experiment.geometry;
      let failures = 0;
      if (!opts.json) {
        console.log(['image', 'score', 'deviation', 'uncertainty', 'segmentation', 'verdict'].join('\t'));
      }
      for (const file of files) {
        let image;
        try {
          image = await readImage(file, geometry);
        } catch (err) {
          // An unreadable image is named and skipped; the others still get scored.
          failures++;
          process.stderr.write(`error: ${err instanceof InputError ? err.message : String(err)}\n`);
          continue;
        }
        const [p] = predictImages(run, [image], [file]);
        const verdict = threshold === null ? '' : p.score >= threshold ? 'anomalous' : 'nominal';
        let heatmapPath: string | null = null;
        if (opts.heatmap) {
          heatmapPath = join(opts.out, `${basename(file, extname(file))}_heatmap.png`);
          const map = { width: geometry.size, height: geometry.size, data: normalizeMap(p.map) };
          await writePng(heatmapPath, heatmapOverlay(image, map, 0.5));
        }
        if (opts.json) console.log(JSON.stringify({ image: file, score: p.score, ...p.cues, verdict, threshold, heatmap: heatmapPath }));
        else {
          const c = p.cues;
          const f = (v: number | undefined) => (v === undefined ? '' : v.toFixed(4));
          console.log([file, f(p.score), f(c?.deviation), f(c?.uncertainty), f(c?.segmentation), verdict].join('\t'));
        }
      }
      if (failures > 0) process.exitCode = 1;
    });
}
