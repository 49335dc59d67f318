"""Training throughput of the quickstart's networks: optimizer steps per second, side by side.

    python benchmarks/train_throughput.py            # CPU (and the GPU too when one is present)
    python benchmarks/train_throughput.py --steps 200 --out docs/benchmarks.md

Each row times the same DiffusionModule training step (VP process, eps parameterization,
classifier-free-guidance dropout, AdamW, EMA) on the digits data, after a warm-up, and
writes one markdown table to ``--out`` (section "Training throughput").
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

from condiff.core.losses import RegressionLoss
from condiff.core.networks import ConditionalMLP, ConditionalUNet
from condiff.core.processes import VPProcess
from condiff.core.tasks.digits import load_digits_splits
from condiff.core.training import DiffusionModule, ema_decay_at, ema_update_


def _networks() -> dict[str, torch.nn.Module]:
    return {
        "MLP 256x3 (quickstart)": ConditionalMLP((1, 8, 8), width=256, depth=3, num_classes=10, emb_dim=128),
        "UNet 32ch (digits_unet)": ConditionalUNet(1, base_channels=32, channel_mults=(1, 2), num_classes=10),
    }


def steps_per_second(net: torch.nn.Module, device: str, precision: str, steps: int, batch_size: int = 128) -> float:
    """Optimizer steps per second of one training step of the quickstart's module."""
    module = DiffusionModule(net, VPProcess(), "eps", RegressionLoss(), cond_drop_prob=0.1).to(device)
    opt = torch.optim.AdamW(module.network.parameters(), lr=1e-3)
    data = load_digits_splits()["train"]
    x, labels = data.images.to(device), data.labels.to(device)
    dtype = torch.bfloat16 if precision == "bf16-mixed" else None

    def step(i: int) -> None:
        idx = torch.randint(0, len(labels), (batch_size,), device=device)
        with torch.autocast(device_type=device.split(":")[0], dtype=dtype, enabled=dtype is not None):
            loss = module._loss({"x0": x[idx], "cond": {"labels": labels[idx]}})
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(module.network.parameters(), 1.0)
        opt.step()
        ema_update_(module.ema_network, module.network, ema_decay_at(i, 0.999))

    module.train()
    for i in range(10):
        step(i)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    targets = [("cpu", "32-true")]
    if torch.cuda.is_available():
        targets += [("cuda", "32-true"), ("cuda", "bf16-mixed")]
    rows = []
    for name, net in _networks().items():
        base = None
        for device, precision in targets:
            sps = steps_per_second(net, device, precision, args.steps)
            base = base or sps
            label = (
                f"{device} ({torch.cuda.get_device_name()})" if device == "cuda" else f"cpu ({args.threads} threads)"
            )
            rows.append(f"| {name} | {label} | {precision} | {sps:,.1f} | {sps / base:.2f}x |")
            print(rows[-1], flush=True)
    table = "\n".join(
        [
            "## Training throughput",
            "",
            f"`python benchmarks/train_throughput.py --steps {args.steps}`, batch 128, torch {torch.__version__}, "
            f"{platform.processor() or platform.machine()}. Ratio is against the first row of the same network.",
            "",
            "| network | device | precision | steps/s | ratio |",
            "|---|---|---|---:|---:|",
            *rows,
            "",
        ]
    )
    _write_section(args.out, "## Training throughput", table)
    print(f"wrote {args.out}")


def _write_section(path: Path, heading: str, text: str) -> None:
    """Replace the section that starts with ``heading`` in ``path`` (or append it)."""
    old = path.read_text() if path.exists() else "# Benchmarks\n\n"
    start = old.find(heading)
    if start < 0:
        new = old.rstrip() + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(heading))
        new = old[:start] + text + (old[end + 1 :] if end >= 0 else "")
    path.write_text(new)


if __name__ == "__main__":
    main()
