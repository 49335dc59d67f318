"""Inverse problems on photographs: PSNR against NFE for RED-Diff, DPS and data consistency.

    python benchmarks/inverse.py            # default run, writes its section of docs/inference.md
                                            # (11.5 min measured on the shared 2-core machine at load ~13,
                                            #  of which 10.6 min training; 50 s with cached weights)
    python benchmarks/inverse.py --quick    # ~30 s smoke version: a few training steps, printed (or --out FILE)

One small unconditional eps-prediction UNet (VP cosine path, 16 base channels) is trained here on
random 32x32 grayscale crops of the built-in training photographs of condiff-restoration (images
downscaled 4x, values in [-1, 1]); the weights are cached as safetensors under
``~/.cache/condiff/benchmarks`` (``--cache-dir``; ``--retrain`` ignores the cache). Evaluation
uses crops of the held-out photographs. The same model solves three problems:

* inpainting: a random 50% of the pixels observed (``Mask``);
* x4 super-resolution: 4x4 average pooling (``Downsample(4)``);
* deblurring: a 5x5 Gaussian blur of standard deviation 1.5 px (``Blur``, pseudo-inverse truncated at
  5% of the largest frequency response), plus noise 0.02.

Inpainting and super-resolution are measured with noise 0.01. Rows: the pseudo-inverse ``A^+ y``
(no prior; zero NFE), data consistency (``DataConsistency`` with the ancestral ``posterior``
sampler), DPS (``DPS`` with the PiGDM variance, guidance for ``u = t/T <= 0.6`` only, ``posterior``
sampler) and RED-Diff (``red_diff``,
lambda = 0.25, lr = 0.1). PSNR in dB on [0, 1] images, mean over the test crops.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import replace_block

from condiff.core.guidance import schedules
from condiff.core.inverse import DPS, Blur, DataConsistency, Downsample, LinearOperator, Mask, gaussian_kernel, red_diff
from condiff.core.networks.unet import ConditionalUNet
from condiff.core.processes import VPProcess
from condiff.core.sampling import ModelDenoiser, sample
from condiff.restoration.data.images import HELDOUT_IMAGES, TRAIN_IMAGES, load_builtin_image

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "inference.md"
BEGIN, END = "<!-- BEGIN benchmarks/inverse.py -->", "<!-- END benchmarks/inverse.py -->"
SIZE = 32
# No likelihood gradient at the highest noise levels (u > 0.6, where a(t) -> 0): there the score shift
# moves x0_hat by (s^2 / a) x gradient and the network's Jacobian does not vanish with a, so DPS diverges
# (4.7 dB on inpainting at 25 NFE with guidance everywhere, 28.6 dB with this interval; cached model).
DPS_SCALE = schedules.interval(1.0, 0.0, 0.6, outside=0.0)


def grayscale_pool(names: tuple[str, ...], factor: int = 4) -> list[torch.Tensor]:
    """Built-in photographs as ``(1, H, W)`` grayscale in [-1, 1], downscaled ``factor`` times."""
    out = []
    for name in names:
        img = load_builtin_image(name).mean(0, keepdim=True)[None]
        out.append(F.avg_pool2d(img, factor)[0] * 2 - 1)
    return out


def random_crops(pool: list[torch.Tensor], n: int, generator: torch.Generator) -> torch.Tensor:
    crops = []
    for i in torch.randint(len(pool), (n,), generator=generator).tolist():
        img = pool[i]
        h = int(torch.randint(img.shape[1] - SIZE + 1, (1,), generator=generator))
        w = int(torch.randint(img.shape[2] - SIZE + 1, (1,), generator=generator))
        crops.append(img[:, h : h + SIZE, w : w + SIZE])
    x = torch.stack(crops)
    flip = torch.rand(n, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def make_network() -> ConditionalUNet:
    return ConditionalUNet(in_channels=1, base_channels=16, channel_mults=(1, 2, 2))


def train(steps: int, log: Callable[[str], None]) -> ConditionalUNet:
    """Denoising score matching (eps loss, uniform t) with Adam and an EMA of the weights."""
    torch.manual_seed(0)
    net = make_network()
    ema = make_network()
    ema.load_state_dict(net.state_dict())
    process = VPProcess("cosine")
    pool = grayscale_pool(TRAIN_IMAGES)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=max(steps, 1), pct_start=0.1)
    g = torch.Generator().manual_seed(1)
    for step in range(steps):
        x0 = random_crops(pool, 32, g)
        t = process.t_min + (process.T - process.t_min) * torch.rand(32, generator=g, dtype=torch.float64)
        eps = torch.randn(x0.shape, generator=g)
        x_t, _ = process.marginal_sample(x0, t, noise=eps)
        loss = (net(x_t.float(), t.float()) - eps).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), net.parameters(), strict=True):
                pe.lerp_(p, 1 - min(0.995, (1 + step) / (10 + step)))
        if step % 200 == 0 or step == steps - 1:
            log(f"train step {step}: loss {loss.item():.4f}")
    return ema.eval()


def load_or_train(cache: Path, steps: int, retrain: bool, log: Callable[[str], None]) -> ConditionalUNet:
    path = cache / f"inverse_unet_{steps}.safetensors"
    if path.exists() and not retrain:
        net = make_network()
        try:
            net.load_state_dict(load_file(str(path)))
        except RuntimeError as e:  # the UNet's layout changed since the cache was written
            log(f"{path} does not fit the current UNet ({str(e).splitlines()[0]}); retraining")
        else:
            log(f"loaded {path}")
            return net.eval()
    net = train(steps, log)
    cache.mkdir(parents=True, exist_ok=True)
    save_file(net.state_dict(), str(path))
    return net


def psnr(x: torch.Tensor, ref: torch.Tensor) -> float:
    """PSNR (dB) of [-1, 1] images mapped to [0, 1], mean over the batch."""
    a, b = (x.clamp(-1, 1) + 1) / 2, (ref + 1) / 2
    mse = (a - b).square().flatten(1).mean(1).clamp_min(1e-10)
    return float((-10 * mse.log10()).mean())


def problems(n: int, g: torch.Generator) -> dict[str, tuple[LinearOperator, float]]:
    mask = (torch.rand(n, 1, SIZE, SIZE, generator=g) < 0.5).float()
    return {
        "inpainting (50% pixels)": (Mask(mask), 0.01),
        "x4 super-resolution": (Downsample(4), 0.01),
        "deblurring (Gaussian 1.5 px)": (Blur(gaussian_kernel(5, 1.5), rcond=0.05), 0.02),
    }


def run(net: ConditionalUNet, n: int, nfes: tuple[int, ...], log: Callable[[str], None]) -> list[str]:
    process = VPProcess("cosine")
    g = torch.Generator().manual_seed(7)
    x_true = random_crops(grayscale_pool(HELDOUT_IMAGES), n, g)
    den = ModelDenoiser(net, process, "eps")
    prior_var = float(random_crops(grayscale_pool(TRAIN_IMAGES), 256, g).var())
    lines = [f"PSNR (dB) on {n} held-out {SIZE}x{SIZE} crops; columns: NFE (denoiser evaluations per image).", ""]
    for name, (op, sigma) in problems(n, g).items():
        y = op(x_true) + sigma * torch.randn(op(x_true).shape, generator=g)
        rows: dict[str, list[str]] = {"data consistency": [], "DPS": [], "RED-Diff": []}
        for nfe in nfes:
            seed = torch.Generator().manual_seed(nfe)
            dc = DataConsistency(den, process, op, y)
            with torch.no_grad():
                x_dc = sample(dc, process, shape=x_true.shape, steps=nfe, method="posterior", generator=seed).x
            rows["data consistency"].append(f"{psnr(x_dc, x_true):.2f}")
            dps = DPS(den, process, op, y, sigma=sigma, prior_var=prior_var, scale=DPS_SCALE)
            x_dps = sample(dps, process, shape=x_true.shape, steps=nfe, method="posterior", generator=seed).x
            rows["DPS"].append(f"{psnr(x_dps, x_true):.2f}")
            x_red = red_diff(den, process, op, y, steps=nfe, sigma=sigma, generator=seed, schedule="uniform").x
            rows["RED-Diff"].append(f"{psnr(x_red, x_true):.2f}")
            log(f"{name} NFE {nfe} done")
        baseline = psnr(op.pinv(y), x_true)
        lines += [
            f"### {name}",
            "",
            "| method | " + " | ".join(str(k) for k in nfes) + " |",
            "|---|" + "---|" * len(nfes),
        ]
        lines.append("| pseudo-inverse A^+ y (0 NFE) | " + " | ".join(f"{baseline:.2f}" for _ in nfes) + " |")
        lines += [f"| {label} | " + " | ".join(vals) + " |" for label, vals in rows.items()]
        lines.append("")
    return lines


def write_section(path: Path, begin: str, end: str, body: list[str]) -> None:
    """Replace the text between ``begin`` and ``end`` in ``path`` (append the block if missing)."""
    replace_block(path, begin, end, "\n".join(body), append=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="~30 s: 30 training steps, 4 crops, NFE 5 and 10")
    parser.add_argument("--train-steps", type=int, default=None, help="training steps (default 1000; quick: 30)")
    parser.add_argument("--out", type=Path, default=None, help="markdown file whose inverse section is rewritten")
    parser.add_argument("--threads", type=int, default=1, help="more threads contend on a shared machine")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "condiff" / "benchmarks")
    parser.add_argument("--retrain", action="store_true", help="ignore cached weights")
    parser.add_argument("--crops", type=int, default=None, help="test crops (default 8; quick: 4)")
    parser.add_argument("--nfes", type=int, nargs="+", default=None, help="NFE columns (default 10 25 50; quick: 5 10)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    steps = args.train_steps or (30 if args.quick else 1000)
    net = load_or_train(args.cache_dir, steps, args.retrain, log)
    body = [
        f"`python benchmarks/inverse.py{' --quick' if args.quick else ''}`; model trained {steps} steps; "
        f"torch {torch.__version__}, {platform.machine()}, {torch.get_num_threads()} thread(s). "
        "Generated: rerun to refresh.",
        "",
        *run(
            net,
            args.crops or (4 if args.quick else 8),
            tuple(args.nfes or ((5, 10) if args.quick else (10, 25, 50))),
            log,
        ),
        f"Total run time {time.perf_counter() - start:.0f} s.",
    ]
    out = args.out or (None if args.quick else DOC)
    if out is None:
        print("\n".join(body))
    else:
        write_section(out, BEGIN, END, body)
        log(f"wrote {out}")


if __name__ == "__main__":
    main()
