#!/usr/bin/env python3
"""PyTorch CPU peer of `landslide bench`: the twin networks of twins.py, trained with the
same losses, optimiser and batch sizes, printing the same figures (JSON lines with the
same keys). Needs torch (pip install torch); kept out of the build and the tests.

    python3 tools/bench/torch_bench.py --network susceptibility --threads 2 --json
"""
import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

import twins


def focal_tversky(p, y, alpha=0.3, beta=0.7, gamma=1.0, eps=1e-6):
    tp = (y * p).sum()
    fp = ((1 - y) * p).sum()
    fn = (y * (1 - p)).sum()
    return (1 - (tp + eps) / (tp + alpha * fp + beta * fn + eps)) ** gamma


def build(network, batch, length, blocks, generator):
    uniform = lambda *shape: torch.rand(*shape, generator=generator)
    labels = lambda *shape: (torch.rand(*shape, generator=generator) < 0.15).float()
    if network == "susceptibility":
        model = twins.Susceptibility(blocks=blocks)
        x, y = uniform(batch, 13, 128, 128), labels(batch, 1, 4, 4)
        return model, lambda: focal_tversky(model(x), y)
    if network == "density":
        model = twins.Density()
        x, y = uniform(batch, 13, 32, 32), uniform(batch, 1)
        return model, lambda: F.l1_loss(model(x), y)
    model = twins.Transformer(length)
    series, covariates, y = uniform(batch, length, 3), uniform(batch, 5), labels(batch, 1)
    weight = y * 9 + (1 - y)
    return model, lambda: F.binary_cross_entropy_with_logits(model.logits(series, covariates), y, weight=weight)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", choices=["susceptibility", "density", "transformer"], required=True)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--steps", type=int, help="timed steps (default: 5, 30 and 3 for the three networks)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--length", type=int, default=6513)
    parser.add_argument("--blocks", default="3,4,6,3")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    steps = args.steps or {"susceptibility": 5, "density": 30, "transformer": 3}[args.network]
    batch = args.batch or {"susceptibility": 16, "density": 128, "transformer": 16}[args.network]
    blocks = tuple(int(b) for b in args.blocks.split(","))
    model, loss_of = build(args.network, batch, args.length, blocks, torch.Generator().manual_seed(1))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

    def step():
        optimiser.zero_grad(set_to_none=False)
        loss_of().backward()
        optimiser.step()

    with FlopCounterMode(display=False) as counter:
        with torch.no_grad():
            loss_of()
    forward_flops = counter.get_total_flops()
    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - start
    result = {
        "network": args.network,
        "params": sum(p.numel() for p in model.parameters()),
        "batch": batch,
        "threads": args.threads,
        "samples_per_s": round(batch * steps / seconds, 3),
        "gflops": round(3 * forward_flops * steps / seconds / 1e9, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "allocs_per_step": -1,
        "implementation": f"pytorch {torch.__version__}",
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(" ".join(f"{key}={value}" for key, value in result.items()))


if __name__ == "__main__":
    main()
