import type { Command } from 'commander';
import { formatVerifyTable, verifyResNet18 } from '../backbones/verify.ts';
import { InputError } from '../util/errors.ts';

export function registerBackbone(program: Command): void {
  const backbone = program.command('backbone').description('inspect and check backbone encoders');

  backbone
    .command('verify')
    .description('compare a ResNet-18 safetensors conversion with activations recorded in PyTorch; exits 1 over tolerance')
    .requiredOption('--weights <file>', 'ResNet-18 weights (.safetensors, torchvision/timm names)')
    .requiredOption('--reference <file>', 'recorded activations JSON: {"layout": "NCHW", "input": {shape, data}, "layer2": {...}, ...}')
    .option('--tolerance <x>', 'largest accepted max|diff|/max|ref| per layer', '1e-3')
    .option('--normalise-input', 'apply ImageNet mean/std to the reference input first (when it holds [0,1] pixels)')
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: { weights: string; reference: string; tolerance: string; normaliseInput?: boolean; json?: boolean }) => {
        const tolerance = Number(opts.tolerance);
        if (!Number.isFinite(tolerance) || tolerance < 0) {
          throw new InputError(`--tolerance must be a non-negative number, got "${opts.tolerance}"`, undefined, 'e.g. --tolerance 1e-3');
        }
        const result = await verifyResNet18({
          weights: opts.weights,
          reference: opts.reference,
          tolerance,
          normaliseInput: opts.normaliseInput,
        });
        if (opts.json) {
          console.log(JSON.stringify(result, null, 2));
        } else {
          console.log(`weights:   ${result.weightsPath} (id ${result.weightsId})`);
          console.log(`reference: ${result.referencePath}${result.inputNormalised ? ' (input ImageNet-normalised here)' : ''}`);
          console.log(formatVerifyTable(result));
          if (result.ignored.length > 0) console.log(`ignored reference entries: ${result.ignored.join(', ')}`);
          console.log(
            result.ok
              ? `OK: every layer within ${tolerance}`
              : `FAILED: ${result.layers.filter((l) => !l.ok).length} layer(s) over ${tolerance}` +
                  (result.inputNormalised
                    ? ''
                    : '. If the recorded model was fed ImageNet-normalised [0,1] images, retry with --normalise-input'),
          );
        }
        if (!result.ok) process.exitCode = 1;
      },
    );
}
