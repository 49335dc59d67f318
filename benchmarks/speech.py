"""Speech enhancement quality against NFE: SGMSE+'s PC sampler, the probability-flow ODE and the core's fast solvers.

    python benchmarks/speech.py --export-dir outputs/sgmse/<run>/export     # a trained model (GPU for real numbers)
    python benchmarks/speech.py --train-steps 300 --cache-dir /tmp/cache    # trains the CI-size CPU model first
    python benchmarks/speech.py --quick                                     # smoke run (tests/benchmarks)

Every sampler enhances the same held-out built-in files (the ``test`` split: voices never trained on)
from the same seed with the same model. PC is SGMSE+'s sampler (reverse-diffusion predictor plus one
annealed-Langevin corrector step, snr 0.5), so N steps cost 2N network evaluations (NFE); PC with
30 steps (60 NFE) is the paper's setting. Wall time is per second of enhanced audio on this machine.
The headline is the smallest NFE at which a fast solver's PESQ is within 0.05 of PC at 60 NFE.
The table goes to ``docs/speech.md`` between the benchmark markers (``--out`` to write elsewhere).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import replace_block

from condiff.core.config_path import core_config_dir
from condiff.core.export import load_exported_config, load_exported_weights
from condiff.core.training.run import train
from condiff.speech.evaluate import SpeechEvaluator
from condiff.speech.inference import enhance_spectrograms

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- speech-benchmark:start -->", "<!-- speech-benchmark:end -->"

# (label, sampler options, NFE per step): NFE = steps * per_step (+0).
SAMPLERS: list[tuple[str, dict[str, Any], int]] = [
    ("PC (reverse diffusion + ALD)", {"method": "pc", "schedule": "uniform", "snr": 0.5, "corrector_steps": 1}, 2),
    ("PF-ODE, Euler (EDM)", {"method": "euler", "schedule": "uniform"}, 1),
    ("PF-ODE, Heun (EDM)", {"method": "heun", "schedule": "uniform"}, 2),
    ("DDIM (1st-order exp. integrator)", {"method": "ddim", "schedule": "logsnr"}, 1),
    ("DPM-Solver++(2M)", {"method": "dpm-solver++", "order": 2, "schedule": "logsnr"}, 1),
    ("UniPC bh2 (order 2)", {"method": "unipc", "schedule": "quadratic"}, 1),
    ("UniPC bh2 (order 3)", {"method": "unipc", "order": 3, "schedule": "logsnr"}, 1),
]
NFES = (5, 10, 20, 30, 60)

TINY_TRAIN = [  # the CI-size model of tests/speech/test_learning.py
    "logger=none", "trainer=cpu", "trainer.enable_progress_bar=false", "~callbacks.speech_media",
    "trainer.precision=32-true", "task.front_end.n_fft=254", "task.datamodule.crop=32",
    "task.datamodule.batch_size=8", "+task.datamodule.builtin_sizes={train:256,valid:4,test:8}",
    "task.datamodule.snr_range=[0,5]", "task.datamodule.noise_types=[white,pink]",
    "task.network.channels=8", "task.network.channel_mults=[1,2,2]", "task.network.num_res_blocks=1",
    "task.network.attn_levels=[]", "param=x0", "loss.weighting=uniform", "module.lr=2e-3", "module.warmup_steps=20",
    "module.ema_decay=0.98", "trainer.check_val_every_n_epoch=1000",
]  # fmt: skip


def trained_model(args: argparse.Namespace) -> tuple[torch.nn.Module, Any, str, Any]:
    """``(network, process, parameterization, task config)`` from ``--export-dir`` or a fresh tiny training run."""
    if args.export_dir is not None:
        ecfg = load_exported_config(args.export_dir)
        net = load_exported_weights(instantiate(ecfg.task.network), args.export_dir).eval()
        return net, instantiate(ecfg.sde), str(ecfg.param.name), ecfg
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[
                f"paths.output_dir={args.cache_dir / f'speech-bench-run-{args.train_steps}'}",
                f"paths.cache_dir={args.cache_dir}",
                "experiment=speech/sgmse", *TINY_TRAIN, f"trainer.max_steps={args.train_steps}", "export=false",
                f"threads={args.threads}",
            ],
        )  # fmt: skip
    result = train(cfg)
    module = result["module"]
    return module.ema_network.eval(), module.process, module.parameterization, cfg


def run(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    net, process, param, cfg = trained_model(args)
    device = torch.device(args.device)
    net = net.to(device)
    dm = instantiate(cfg.task.datamodule)
    dm.eval_split, dm.crop = "test", args.eval_frames
    batch = next(dm.sampling_batches(args.files, args.files))
    y, ref = batch["y"].to(device), batch["reference"]
    evaluator = SpeechEvaluator(cfg.task.front_end)
    seconds = len(y) * evaluator.front_end.segment_length(y.shape[-1]) / evaluator.front_end.sample_rate
    noisy = evaluator(batch["y"], {"reference": ref, "y": batch["y"]})
    rows: list[dict[str, Any]] = []
    nfes = (10, 60) if args.quick else NFES
    for label, opts, per_step in SAMPLERS[: 3 if args.quick else None]:
        for nfe in nfes:
            if nfe % per_step:
                continue
            gen = torch.Generator(device=device).manual_seed(0)
            start = time.perf_counter()
            x = enhance_spectrograms(net, process, param, y, {**opts, "steps": nfe // per_step}, gen)
            if device.type == "cuda":
                torch.cuda.synchronize()
            wall = time.perf_counter() - start
            m = evaluator(x.cpu(), {"reference": ref, "y": batch["y"]})
            rows.append({"sampler": label, "nfe": nfe, "pesq": m["pesq"], "estoi": m["estoi"], "si_sdr": m["si_sdr"],
                         "s_per_s": wall / seconds})  # fmt: skip
            print(f"{label:34s} NFE {nfe:3d}  PESQ {m['pesq']:.3f}  ESTOI {m['estoi']:.3f}  "
                  f"SI-SDR {m['si_sdr']:6.2f}  {wall / seconds:.3f} s/s", flush=True)  # fmt: skip
    return {"rows": rows, "noisy": noisy, "seconds": seconds, "files": len(y)}


def headline(rows: list[dict[str, Any]]) -> str:
    """The smallest NFE of a non-PC sampler whose PESQ is within 0.05 of PC at 60 NFE."""
    pc = [r for r in rows if r["sampler"].startswith("PC") and r["nfe"] == 60]
    if not pc:
        return "PC at 60 NFE was not run."
    target = pc[0]["pesq"] - 0.05
    ok = sorted((r for r in rows if not r["sampler"].startswith("PC") and r["pesq"] >= target), key=lambda r: r["nfe"])
    if not ok:
        return f"No fast solver reached PC-60's PESQ {pc[0]['pesq']:.3f} within 0.05 at the NFEs tried."
    best = ok[0]
    return (
        f"**{best['sampler']} at {best['nfe']} NFE** matches PC at 60 NFE within 0.05 PESQ "
        f"({best['pesq']:.3f} vs {pc[0]['pesq']:.3f}), {60 / best['nfe']:.0f}x fewer network evaluations."
    )


def markdown(result: dict[str, Any], args: argparse.Namespace) -> str:
    n = result["noisy"]
    model = f"`{args.export_dir}`" if args.export_dir else f"tiny NCSN++ trained {args.train_steps} steps on CPU"
    lines = [
        f"Model: {model}; "
        f"{result['files']} held-out built-in files, {result['seconds']:.1f} s of audio; device {args.device} "
        f"({platform.processor() or platform.machine()}, {args.threads} threads).",
        "",
        f"Noisy input: PESQ {n['pesq']:.3f}, ESTOI {n['estoi']:.3f}, SI-SDR {n['si_sdr']:.2f} dB.",
        "",
        "| sampler | NFE | PESQ | ESTOI | SI-SDR (dB) | s per s of audio |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['sampler']} | {r['nfe']} | {r['pesq']:.3f} | {r['estoi']:.3f} | {r['si_sdr']:.2f} "
            f"| {r['s_per_s']:.3f} |"
        )
    lines += ["", "Headline: " + headline(result["rows"])]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    """Replace the text between the benchmark markers of ``path`` (or append the section)."""
    replace_block(path, START, END, text, append=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export-dir", type=Path, default=None, help="exported model (condiff-train's export/)")
    parser.add_argument("--train-steps", type=int, default=300, help="without --export-dir: tiny CPU training steps")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "condiff" / "benchmarks")
    parser.add_argument("--files", type=int, default=8, help="held-out files enhanced")
    parser.add_argument("--eval-frames", type=int, default=256, help="frames of each evaluated segment")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="smoke run: PC/Euler/Heun at 10 and 60 NFE")
    parser.add_argument("--out", type=Path, default=None, help="markdown file (default: docs/speech.md section)")
    args = parser.parse_args(argv)
    result = run(args)
    text = markdown(result, args)
    print(text)
    if not args.quick or args.out is not None:
        write_section(args.out or ROOT / "docs" / "speech.md", text)


if __name__ == "__main__":
    main()
