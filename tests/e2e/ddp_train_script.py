"""Train a few steps with trainer=ddp_cpu (two gloo processes); each rank saves its final weights.

Run as ``python ddp_train_script.py OUT_DIR CACHE_DIR``. Lightning re-launches this
same script for rank 1.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from safetensors.torch import save_file

from condiff.core.config_path import core_config_dir
from condiff.core.training.run import train


def main(out_dir: Path, cache_dir: Path) -> None:
    torch.set_num_threads(1)
    config_dir = core_config_dir()
    assert config_dir is not None
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[
                "experiment=quickstart",
                "trainer=ddp_cpu",
                "trainer.max_steps=12",
                "logger=none",
                "trainer.enable_progress_bar=false",
                "export=false",
                "trainer.check_val_every_n_epoch=100",
                f"paths.output_dir={out_dir}",
                f"paths.cache_dir={cache_dir}",
                "module.warmup_steps=2",
            ],
        )
    result = train(cfg)
    rank = result["trainer"].global_rank
    weights = {f"net.{k}": v.detach().contiguous() for k, v in result["module"].network.state_dict().items()}
    weights.update({f"ema.{k}": v.detach().contiguous() for k, v in result["module"].ema_network.state_dict().items()})
    save_file(
        weights,
        str(out_dir / f"rank{rank}.safetensors"),
        metadata={"world_size": str(result["trainer"].world_size), "step": str(result["trainer"].global_step)},
    )
    print(f"rank {rank} pid {os.getpid()} done", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
