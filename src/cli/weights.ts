import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { DownloadError, fetchWeights, type ProgressFn } from '../backbones/download.ts';
import { listBackbones } from '../backbones/registry.ts';
import { isCached, isDownloadable, listCache, weightsCacheDir, WEIGHT_SOURCES } from '../backbones/weights-cache.ts';
import { InputError } from '../util/errors.ts';
import { progress, type Progress } from '../util/progress.ts';

/** Progress bars per downloaded file, in KiB with rate and ETA. */
function downloadProgress(): { onProgress: ProgressFn; done(): void } {
  let current: { file: string; bar: Progress; ticked: number } | null = null;
  return {
    onProgress({ file, received, total }) {
      if (!current || current.file !== file) {
        current?.bar.done();
        const kib = total === null ? 0 : Math.ceil(total / 1024);
        current = { file, bar: progress(file, kib, { unit: 'KiB', force: true }), ticked: 0 };
      }
      const kib = Math.floor(received / 1024);
      if (kib > current.ticked) {
        current.bar.tick(kib - current.ticked);
        current.ticked = kib;
      }
    },
    done() {
      current?.bar.done();
      current = null;
    },
  };
}

function formatBytes(n: number | null): string {
  if (n === null) return '-';
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

async function inspect(file: string): Promise<void> {
  if (!existsSync(file)) throw new InputError('file not found', file, 'give a .tflite file or a tfjs model.json');
  if (file.endsWith('.tflite')) {
    const { TfliteGraph } = await import('../backbones/tflite.ts');
    const graph = await TfliteGraph.fromFile(file);
    const input = graph.inputTensor;
    console.log(`input: ${input.name} [${input.shape}]`);
    console.log('4-D operator outputs (tap candidates), name [shape]:');
    const produced = new Set(graph.subgraph.operators.flatMap((o) => o.outputs));
    for (const t of graph.subgraph.tensors) {
      if (produced.has(t.index) && t.shape.length === 4) console.log(`  ${t.name.split(';')[0]} [${t.shape}]`);
    }
    return;
  }
  const { initBackend } = await import('../engine/backend.ts');
  const { readTfjsArtifacts, layersModelFromArtifacts } = await import('../backbones/tfjs-model.ts');
  await initBackend();
  const model = await layersModelFromArtifacts((await readTfjsArtifacts(file)).artifacts);
  const walk = (m: typeof model, indent: string): void => {
    for (const layer of m.layers) {
      let shape = '';
      try {
        shape = JSON.stringify(layer.outputShape);
      } catch {
        shape = '(several)';
      }
      console.log(`${indent}${layer.name} (${layer.getClassName()}) ${shape}`);
      if ('layers' in layer) walk(layer as typeof model, `${indent}  `);
    }
  };
  walk(model, '');
  model.dispose();
}

export function registerWeights(program: Command): void {
  const weights = program
    .command('weights')
    .description('download and list pretrained backbone weights (cache: MULTICUE_WEIGHTS, $MULTICUE_CACHE/weights or ~/.cache/multicue/weights)');

  weights
    .command('fetch')
    .description(`download a backbone's weights into the cache, checked by sha256 (${Object.keys(WEIGHT_SOURCES).join(' | ')})`)
    .argument('<name>', 'backbone name')
    .option('--cache <dir>', 'weights cache folder')
    .option('--sha256 <hex>', 'expected sha256 of the main file (refuse anything else)')
    .option('--force', 'download again even when the cache has it')
    .action(async (name: string, opts: { cache?: string; sha256?: string; force?: boolean }) => {
      if (!isDownloadable(name)) {
        throw new InputError(
          `no download for "${name}"`,
          undefined,
          `use one of: ${Object.keys(WEIGHT_SOURCES).join(', ')} (nsfwjs-mobilenetv2 is built in)`,
        );
      }
      if (opts.sha256 && !/^[0-9a-fA-F]{64}$/.test(opts.sha256)) {
        throw new InputError(`--sha256 must be 64 hex digits, got "${opts.sha256}"`);
      }
      const cacheDir = opts.cache ?? weightsCacheDir();
      const source = WEIGHT_SOURCES[name];
      if (!opts.force && isCached(name, cacheDir)) {
        console.log(`${name}: already in the cache at ${cacheDir}/${source.subdir}/${source.mainFile} (--force downloads again)`);
        return;
      }
      console.log(`${name}: ${source.description}`);
      console.log(`from ${source.url} (${source.origin}; licence ${source.licence})`);
      const bars = downloadProgress();
      try {
        const result = await fetchWeights(name, { cacheDir, sha256: opts.sha256, onProgress: bars.onProgress });
        bars.done();
        console.log(`saved ${result.path}`);
        for (const f of result.files) console.log(`  ${f.path}  ${formatBytes(f.bytes)}  sha256 ${f.sha256}`);
        if (result.sha256WasUnknown) {
          console.log(`sha256 was not known before; recorded in ${cacheDir}/fetched.json. Pin it next time with --sha256 ${result.files[0].sha256}`);
        }
      } catch (err) {
        bars.done();
        if (err instanceof DownloadError) {
          const where = `${cacheDir}/${source.subdir}/${source.mainFile}`;
          throw new InputError(
            err.message,
            where,
            source.kind === 'tfjs-layers'
              ? `retry; offline, download ${source.url} and the shards it lists into ${cacheDir}/${source.subdir}/ yourself`
              : `retry; offline, download ${source.url} yourself and save it as ${where}`,
          );
        }
        throw err;
      }
    });

  weights
    .command('list')
    .description('show the backbones and which weights the cache holds')
    .option('--cache <dir>', 'weights cache folder')
    .option('--json', 'print JSON')
    .action((opts: { cache?: string; json?: boolean }) => {
      const cacheDir = opts.cache ?? weightsCacheDir();
      const cache = listCache(cacheDir);
      const backbones = listBackbones(cacheDir);
      if (opts.json) {
        console.log(JSON.stringify({ cacheDir, cache, backbones }, null, 2));
        return;
      }
      console.log(`cache: ${cacheDir}`);
      for (const e of cache) {
        const status = e.present ? `cached  ${formatBytes(e.bytes)}` : 'missing';
        console.log(`  ${e.name.padEnd(18)} ${status.padEnd(18)} ${e.path}`);
        if (e.present && e.sha256) console.log(`  ${''.padEnd(18)} sha256 ${e.sha256} (fetched ${e.fetchedAt})`);
      }
      console.log('backbones:');
      for (const b of backbones) console.log(`  ${b.name.padEnd(18)} ${b.description}`);
      if (!cache.some((e) => e.present)) console.log('no weights cached: get good ones with `multicue weights fetch mobilenetv2`');
    });

  weights
    .command('inspect')
    .description('list the tensors (.tflite) or layers (tfjs model.json) a model has, to choose taps')
    .argument('<file>', '.tflite file or model.json')
    .action(inspect);
}
