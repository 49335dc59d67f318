"""``condiff-sample``: draw samples from an exported model (safetensors + config)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import hydra
import torch
from omegaconf import DictConfig, OmegaConf
from safetensors.torch import save_file

from condiff.core.checkpoint import publish
from condiff.core.cli.errors import run_reporting_errors
from condiff.core.config import instantiate_node, sampler_options, validate_sampler_config
from condiff.core.errors import ConfigError
from condiff.core.export import WEIGHTS_FILE, exported_process_constants, load_exported_config, load_exported_weights
from condiff.core.logging.media import image_grid, save_png
from condiff.core.processes.constants import check_process_constants, process_constants
from condiff.core.sampling import ModelDenoiser, sample

SAMPLES_FILE = "samples.safetensors"


def generate_from_export(cfg: DictConfig) -> dict[str, Any]:
    """Sample ``cfg.num_samples`` outputs for the task's sampling conditions; write them to ``cfg.out_dir``."""
    validate_sampler_config(cfg, "sampler")
    if not isinstance(cfg.num_samples, int) or cfg.num_samples < 1:
        raise ConfigError(f"config key 'num_samples' has a bad value {cfg.num_samples!r}: expected an integer >= 1")
    if cfg.get("threads"):
        torch.set_num_threads(int(cfg.threads))
    export_dir = Path(cfg.export_dir).resolve()
    ecfg = load_exported_config(export_dir)
    device = torch.device(cfg.device)
    network = load_exported_weights(instantiate_node(ecfg, "task.network"), export_dir).to(device).eval()
    if OmegaConf.select(ecfg, "task.module") is not None:
        # A task with its own module (e.g. masked discrete diffusion) is no Gaussian path: its writer samples.
        if OmegaConf.select(ecfg, "task.sample_writer") is None:
            raise ConfigError(f"{export_dir}: task {ecfg.task.name!r} has its own module but no task.sample_writer")
        datamodule = instantiate_node(ecfg, "task.datamodule")
        return _write_with_task(cfg, ecfg, network, None, datamodule, export_dir, device)
    process = sampling_process(cfg, ecfg, network, export_dir)
    if cfg.get("input_dir"):
        return _restore_folder(cfg, ecfg, network, process, device)
    datamodule = instantiate_node(ecfg, "task.datamodule")
    if OmegaConf.select(ecfg, "task.sample_writer") is not None:
        return _write_with_task(cfg, ecfg, network, process, datamodule, export_dir, device)
    opts = sampler_options(cfg)
    guidance = float(opts.pop("guidance", 1.0))
    g = torch.Generator(device=device).manual_seed(int(cfg.seed))
    outs: list[torch.Tensor] = []
    conds: dict[str, list[torch.Tensor]] = {}
    nfe = 0
    with torch.no_grad():
        for batch in datamodule.sampling_batches(cfg.num_samples, cfg.batch_size):
            cond = {k: v.to(device) for k, v in (batch.get("cond") or {}).items()}
            y = batch.get("y")
            y = y.to(device) if y is not None else None
            den = ModelDenoiser(network, process, ecfg.param.name, y=y, cond=cond, guidance=guidance)
            res = sample(
                den, process, y=y, shape=tuple(batch["shape"]), generator=g, device=device, progress=True, **opts
            )
            outs.append(res.x.cpu())
            nfe = res.nfe
            for k, v in cond.items():
                conds.setdefault(k, []).append(v.cpu())
            for k in ("reference", "y"):
                if isinstance(batch.get(k), torch.Tensor):
                    conds.setdefault(k, []).append(batch[k].cpu())
    samples = torch.cat(outs)
    out_dir = Path(cfg.out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {"samples": samples, **{f"cond.{k}": torch.cat(v) for k, v in conds.items()}}
    write_samples(out_dir, tensors, export_dir, nfe, {**opts, "guidance": guidance})
    png = None
    if samples.ndim == 4 and samples.shape[1] in (1, 3):
        png = save_png(
            image_grid(samples[:100], nrow=10, upscale=4 if samples.shape[-1] <= 16 else 1), out_dir / "samples.png"
        )
    print(f"samples:         {out_dir / SAMPLES_FILE}  ({len(samples)} samples, {nfe} NFE each)", flush=True)
    if png:
        print(f"sample grid:     {png}", flush=True)
    return {"samples_path": out_dir / SAMPLES_FILE, "samples": samples, "nfe": nfe}


def write_samples(
    out_dir: Path,
    tensors: dict[str, torch.Tensor],
    export_dir: Path,
    nfe: int,
    sampler: dict[str, Any],
    extra_meta: dict[str, str] | None = None,
) -> Path:
    """Atomically write ``out_dir/samples.safetensors``: ``samples`` (+ ``cond.<name>`` tensors) with the metadata
    ``condiff-evaluate`` reads (``export_dir``, ``nfe``, ``sampler`` as JSON; plus ``extra_meta``). Task writers
    use it too."""
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {**(extra_meta or {}), "export_dir": str(export_dir), "nfe": str(nfe), "sampler": json.dumps(sampler)}
    tmp = out_dir / f".{SAMPLES_FILE}.tmp"
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp), metadata=meta)
    return publish(tmp, out_dir / SAMPLES_FILE)


def sampling_process(cfg: DictConfig, ecfg: DictConfig, network: torch.nn.Module, export_dir: Path) -> Any:
    """The process to sample with: the trained one, checked against every override of the sampling config.

    The export stores the training process's constants (:func:`~condiff.core.export.exported_process_constants`);
    an ``sde`` node or a sampler option in ``cfg`` that disagrees with them is a :class:`ConfigError`, not a
    silent no-op. ``sampling_path`` (a mapping of process keys) samples along another path on purpose, for
    networks that declare it valid (``network.path_independent``, keys in ``network.path_free_keys``, e.g.
    RDDM's partially path-independent generation with ``TwoNetworks(time_input="coefficients")``).
    """
    stored = exported_process_constants(export_dir)
    where = str(export_dir / WEIGHTS_FILE)
    process = instantiate_node(ecfg, "sde")
    if stored is not None:
        check_process_constants(stored, process, where)
    trained = process_constants(process)
    if OmegaConf.select(cfg, "sde") is not None:
        merged = OmegaConf.merge(ecfg.sde, cfg.sde)
        check_process_constants(trained, instantiate_node(OmegaConf.create({"sde": merged}), "sde"), where)
    sampler_keys = set(inspect.signature(sample).parameters)  # e.g. `schedule`, the time grid, is the sampler's own
    for key, value in (OmegaConf.to_container(cfg.sampler, resolve=True) or {}).items():  # type: ignore[union-attr]
        if key in trained and key != "class" and key not in sampler_keys:
            if value != trained[key]:
                raise ConfigError(
                    f"config key 'sampler.{key}' = {value!r} disagrees with the trained process ({key} = "
                    f"{trained[key]!r}, stored in {where}); the sampler cannot change the process"
                )
            raise ConfigError(f"config key 'sampler.{key}' is a process constant, not a sampler option: remove it")
    path = OmegaConf.select(cfg, "sampling_path")
    if path is None:
        return process
    if not getattr(network, "path_independent", False):
        raise ConfigError(
            f"config key 'sampling_path': network {type(network).__name__} is conditioned on t, so it is only valid "
            "on its training path (RDDM's path-independent sampling needs TwoNetworks with time_input=coefficients)"
        )
    free = set(getattr(network, "path_free_keys", ()))
    extra = sorted(set(path) - free)
    if extra:
        raise ConfigError(f"config key 'sampling_path': {extra} cannot change; only {sorted(free)} may")
    new = instantiate_node(OmegaConf.create({"sde": OmegaConf.merge(ecfg.sde, path)}), "sde")
    network.follow(new)  # type: ignore[operator]
    return new


def _write_with_task(
    cfg: DictConfig,
    ecfg: DictConfig,
    network: torch.nn.Module,
    process: Any,
    datamodule: Any,
    export_dir: Path,
    device: torch.device,
) -> dict[str, Any]:
    """Sample with the task's own writer (``task.sample_writer``; e.g. GDSS's graphs on a tuple state).

    The writer draws ``num_samples`` samples and writes them to ``out_dir`` (its own formats plus a
    ``samples.safetensors`` that ``condiff-evaluate`` reads); it returns a summary mapping. For a task with its
    own module (``task.module``) ``process`` and ``parameterization`` are ``None``.
    """
    writer = instantiate_node(ecfg, "task.sample_writer")
    return writer(
        network=network,
        process=process,
        parameterization=OmegaConf.select(ecfg, "param.name"),
        datamodule=datamodule,
        options=sampler_options(cfg),
        num_samples=int(cfg.num_samples),
        batch_size=int(cfg.batch_size),
        generator=torch.Generator(device=device).manual_seed(int(cfg.seed)),
        out_dir=Path(cfg.out_dir).resolve(),
        export_dir=export_dir,
    )


def _restore_folder(
    cfg: DictConfig, ecfg: DictConfig, network: torch.nn.Module, process: Any, device: torch.device
) -> dict[str, Any]:
    """Apply the task's folder restorer (``task.folder_restorer``) to the user's ``input_dir``."""
    if OmegaConf.select(ecfg, "task.folder_restorer") is None:
        raise ConfigError(f"config key 'input_dir': task {ecfg.task.name!r} cannot process a folder of user files")
    restorer = instantiate_node(ecfg, "task.folder_restorer")
    out_dir = Path(cfg.out_dir).resolve()
    result = restorer(
        network,
        process,
        ecfg.param.name,
        cfg.input_dir,
        out_dir,
        cfg.get("gt_dir"),
        sampler_options(cfg),
        torch.Generator(device=device).manual_seed(int(cfg.seed)),
    )
    print(f"restored:        {result['restored']} images into {out_dir}", flush=True)
    if result.get("metrics"):
        print(f"metrics:         {out_dir / 'metrics.csv'}  (mean: {result['metrics']})", flush=True)
    return result


@hydra.main(version_base="1.3", config_path=None, config_name="sample")
def _main(cfg: DictConfig) -> None:
    run_reporting_errors(generate_from_export, cfg)


def main() -> None:
    _main()


if __name__ == "__main__":
    main()
