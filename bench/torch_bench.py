"""PyTorch CPU side of `npm run bench`: the same workloads as bench/tfjs_bench.ts.

Run by bench/run.ts with Debian's /usr/bin/python3 (python3-torch, python3-torchvision).
Random weights everywhere (no downloads). Prints one JSON object on the last line.

Usage: python3 bench/torch_bench.py [--threads N] [--quick] [--only a,b]
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

SIZE = 256
BATCH = 8


def timed(fn, warmup, reps):
    """Median wall seconds of `reps` calls after `warmup` untimed ones, plus the CPU share."""
    for _ in range(warmup):
        fn()
    walls = []
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
    cpu_share = (time.process_time() - cpu0) / max(1e-9, time.perf_counter() - wall0)
    return statistics.median(walls), cpu_share


def backbone_forward(model, reps):
    x = torch.rand(BATCH, 3, SIZE, SIZE)

    def run():
        with torch.no_grad():
            model(x)

    seconds, share = timed(run, 1, reps)
    return {"value": BATCH / seconds, "unit": "img/s", "seconds": seconds, "cpuShare": share}


class ResNetTaps(nn.Module):
    """torchvision ResNet-18 up to layer4 (the deepest tap)."""

    def __init__(self):
        super().__init__()
        r = torchvision.models.resnet18(weights=None)
        self.body = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2, r.layer3, r.layer4)

    def forward(self, x):
        return self.body(x)


def input_gradient(reps):
    model = ResNetTaps().eval()
    for p in model.parameters():
        p.requires_grad_(False)

    def run():
        x = torch.rand(1, 3, SIZE, SIZE, requires_grad=True)
        model(x).sum().backward()
        return x.grad

    seconds, share = timed(run, 1, reps)
    return {"value": seconds, "unit": "s/img", "seconds": seconds, "cpuShare": share}


class SegmentationHead(nn.Module):
    """METHOD §2: conv 896→64, BN, ReLU, conv 64→64, BN, ReLU, 3× (up ×2, conv, BN, ReLU), conv →2, softmax."""

    def __init__(self, in_ch=896, width=64, blocks=3):
        super().__init__()

        def cbr(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU())

        self.stem = nn.Sequential(cbr(in_ch, width), cbr(width, width))
        self.ups = nn.ModuleList([cbr(width, width) for _ in range(blocks)])
        self.out = nn.Conv2d(width, 2, 3, padding=1)

    def forward(self, f):
        x = self.stem(f)
        for block in self.ups:
            x = block(F.interpolate(x, scale_factor=2, mode="nearest"))
        return torch.softmax(self.out(x), dim=1)


def focal_loss(prob, target, gamma=2.0, smoothing=1e-5):
    t1 = target.clamp(smoothing, 1 - smoothing)
    t0 = (1 - target).clamp(smoothing, 1 - smoothing)
    pt = t0 * prob[:, 0:1] + t1 * prob[:, 1:2] + smoothing
    return (-(1 - pt).clamp(min=0) ** gamma * torch.log(pt)).mean()


def decoder_step(reps):
    torch.manual_seed(0)
    head = SegmentationHead().train()
    opt = torch.optim.Adam(head.parameters(), lr=2e-4, weight_decay=1e-5)
    features = torch.randn(BATCH, 896, 32, 32)
    target = (torch.rand(BATCH, 1, SIZE, SIZE) > 0.9).float()

    def run():
        opt.zero_grad(set_to_none=True)
        loss = focal_loss(head(features), target)
        loss.backward()
        opt.step()

    seconds, share = timed(run, 1, reps)
    return {"value": seconds, "unit": "s/step", "seconds": seconds, "cpuShare": share}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    reps = 2 if args.quick else 3
    only = set(filter(None, args.only.split(",")))
    workloads = {
        "resnet18-forward": lambda: backbone_forward(torchvision.models.resnet18(weights=None).eval(), reps),
        "mobilenetv2-forward": lambda: backbone_forward(torchvision.models.mobilenet_v2(weights=None).eval(), reps),
        "input-gradient": lambda: input_gradient(reps),
        "decoder-step": lambda: decoder_step(2 if args.quick else reps),
    }
    results = {}
    for name, run in workloads.items():
        if only and name not in only:
            continue
        print(f"torch: {name} ...", file=sys.stderr, flush=True)
        results[name] = run()
    facts = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
    }
    print(json.dumps({"facts": facts, "results": results}))


if __name__ == "__main__":
    main()
