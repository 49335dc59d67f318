"""The DRAKES tasks as ``condiff-train`` / ``condiff-sample`` / ``condiff-evaluate`` commands.

Three stages, each a task with its own Lightning module (``task.module``; core ``condiff-train`` exports its
``export_network`` into ``task.network``):

1. ``drakes_<dna|protein>_pretrain``: :class:`~condiff.core.discrete.MaskedDiffusionModule` (MDLM NELBO);
2. ``drakes_<dna|protein>_oracle``: the fine-tuning oracle, a CNN regressor fit to noisy labels
   (:class:`~condiff.molecules.drakes.oracle.RegressorModule`);
3. ``drakes_<dna|protein>_finetune``: :class:`~condiff.molecules.drakes.DrakesModule` built by
   :func:`drakes_finetune_module` from the two exports (``pretrained_export=``, ``oracle_export=``).

``condiff-sample`` draws sequences with :class:`SequenceSampleWriter` (FASTA + ``samples.safetensors``);
``condiff-evaluate`` scores them with :class:`SequenceEvaluator` (evaluation-oracle reward, 3-mer and
motif-count correlation with held-out data, and the ELBO under the pretrained model when given).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from condiff.core.checkpoint import atomic_write_bytes
from condiff.core.cli.sample import SAMPLES_FILE, write_samples
from condiff.core.config import instantiate_node
from condiff.core.discrete import LogitsFn, MaskedDiffusion, cfg_logits_fn, sample
from condiff.core.errors import ConfigError
from condiff.core.export import load_exported_config, load_exported_weights
from condiff.molecules.drakes.data import SequenceDataModule, builtin_oracle
from condiff.molecules.drakes.dna.synthetic import MotifScanOracle
from condiff.molecules.drakes.metrics import kmer_correlation, log_likelihood, motif_count_correlation
from condiff.molecules.drakes.module import DrakesModule
from condiff.molecules.drakes.sequences import decode

__all__ = ["SequenceEvaluator", "SequenceSampleWriter", "drakes_finetune_module", "load_exported_network"]


def load_exported_network(export_dir: str | Path, network: nn.Module | None = None) -> nn.Module:
    """The network of a ``condiff-train`` export (``task.network`` of its config unless ``network`` is given,
    e.g. the architecture the fine-tuning config names), weights loaded, in eval mode; a missing folder or an
    architecture that does not match the weights is an error naming the folder."""
    export_dir = Path(export_dir).expanduser()
    if network is None:
        network = instantiate_node(load_exported_config(export_dir), "task.network")
    return load_exported_weights(network, export_dir).eval()


def drakes_finetune_module(
    network: nn.Module,
    diffusion: MaskedDiffusion,
    pretrained_export: str,
    oracle_export: str,
    evaluation_oracle: str | None = None,
    data_seed: int = 0,
    **options: Any,
) -> DrakesModule:
    """:class:`DrakesModule` fine-tuning the pretrained denoiser of ``pretrained_export`` (loaded into
    ``network``, the architecture of ``task.network``) against the regressor of ``oracle_export``.

    ``evaluation_oracle``: ``dna`` | ``protein`` (the built-in sets' true oracles, logged as
    ``train/eval_reward``) or ``None``. ``options``: ``length``, ``batch_size``, ``steps``, ``alpha``,
    ``temperature``, ``truncate``, ``lr``, ``use_checkpoint``, ``seed`` of :class:`DrakesModule`.
    """
    for key, value in (("pretrained_export", pretrained_export), ("oracle_export", oracle_export)):
        if not value or str(value) == "???":
            raise ConfigError(f"config key 'task.module.{key}' is missing: give the export folder of that stage")
    pretrained = load_exported_network(pretrained_export, network)
    reward = load_exported_network(oracle_export).requires_grad_(False)
    oracle = builtin_oracle(evaluation_oracle, data_seed) if evaluation_oracle else None
    return DrakesModule(pretrained, diffusion, reward, evaluation_oracle=oracle, **options)


class SequenceSampleWriter:
    """``task.sample_writer`` of the DRAKES tasks: ancestral masked-diffusion sampling (``sampler.steps``
    reverse transitions, cached), written as ``samples.fasta`` and ``samples.safetensors`` (token ids).

    Class conditioning (networks trained with classifier-free guidance labels): ``label`` here or
    ``+sampler.label=<class>`` on the command line; ``sampler.guidance`` ``g`` then gives
    ``log x_u + g (log x_c - log x_u)`` (:func:`~condiff.core.discrete.cfg_logits_fn` with ``w = g - 1``): 1 is the
    conditional model, larger values push harder. Without a label the model is sampled as trained
    (unconditionally) and ``guidance`` must stay 1.
    """

    def __init__(self, diffusion: MaskedDiffusion, alphabet: str, length: int, label: int | None = None) -> None:
        if len(alphabet) != diffusion.vocab_size:
            raise ConfigError(
                f"config key 'task.sample_writer.alphabet': {len(alphabet)} letters for a vocabulary of "
                f"{diffusion.vocab_size}"
            )
        self.diffusion, self.alphabet, self.length, self.label = diffusion, str(alphabet), int(length), label

    def __call__(
        self,
        *,
        network: nn.Module,
        process: Any,
        parameterization: str | None,
        datamodule: Any,
        options: dict[str, Any],
        num_samples: int,
        batch_size: int,
        generator: torch.Generator,
        out_dir: Path,
        export_dir: Path,
    ) -> dict[str, Any]:
        steps, guidance = int(options.get("steps", 100)), float(options.get("guidance", 1.0))
        device = next(network.parameters()).device
        length = self.length
        label = options.get("label", self.label)
        logits_fn: LogitsFn
        if label is None:
            if guidance != 1.0:
                raise ConfigError("config key 'sampler.guidance': the task's sample_writer has no label to guide to")
            logits_fn = network
        else:
            cond = torch.full((batch_size,), int(label), device=device)

            def conditional(z: Tensor, t: Tensor) -> Tensor:
                return network(z, t, label=cond[: z.shape[0]])

            def unconditional(z: Tensor, t: Tensor) -> Tensor:
                return network(z, t, label=torch.full_like(cond[: z.shape[0]], -1))

            logits_fn = cfg_logits_fn(self.diffusion, conditional, unconditional, guidance - 1.0)
        parts, nfe = [], 0
        with torch.no_grad():
            for i in range(0, num_samples, batch_size):
                n = min(batch_size, num_samples - i)
                res = sample(self.diffusion, logits_fn, (n, length), steps=steps, generator=generator, device=device)
                parts.append(res.tokens.cpu())
                nfe = max(nfe, res.nfe)
        tokens = torch.cat(parts)
        write_samples(
            out_dir, {"samples": tokens}, export_dir, nfe, {"steps": steps, "guidance": guidance, "label": label}
        )
        fasta = out_dir / "samples.fasta"
        seqs = decode(tokens, self.alphabet)
        atomic_write_bytes("".join(f">sample_{i}\n{s}\n" for i, s in enumerate(seqs)).encode(), fasta)
        print(f"sequences:       {fasta}  ({num_samples} sequences, at most {nfe} NFE each)", flush=True)
        print(f"samples:         {out_dir / SAMPLES_FILE}", flush=True)
        return {"samples_path": out_dir / SAMPLES_FILE, "samples": tokens, "nfe": nfe, "written": fasta}


class SequenceEvaluator:
    """``task.evaluator`` of the DRAKES tasks on generated token ids ``(N, L)``:

    * ``eval_reward_median`` / ``eval_reward_mean``: the evaluation oracle (built-in sets);
    * ``kmer3_corr``: Pearson correlation of 3-mer frequencies with the held-out sequences;
    * ``motif_corr`` and ``motif_hit_rate``: correlation of per-motif hit rates with the held-out sequences, and
      the mean active-motif hit rate (built-in DNA; DRAKES' "ATAC" accuracy stands for this kind of check);
    * ``elbo``: mean ELBO per sequence (nats) under the pretrained denoiser of ``pretrained_export``
      (naturalness), when given.
    """

    def __init__(
        self, datamodule: SequenceDataModule, pretrained_export: str | None = None,
        diffusion: MaskedDiffusion | None = None, elbo_passes: int = 4,
    ) -> None:  # fmt: skip
        if pretrained_export and diffusion is None:
            raise ConfigError("config key 'task.evaluator.diffusion' is needed with 'pretrained_export'")
        self.datamodule, self.pretrained_export, self.diffusion = datamodule, pretrained_export, diffusion
        self.elbo_passes = int(elbo_passes)

    def __call__(self, samples: Tensor, cond: dict[str, Tensor]) -> dict[str, float]:
        tokens = samples.long()
        reference = self.datamodule.reference_tokens()
        if tokens.ndim != 2 or tokens.shape[1] != reference.shape[1]:
            raise ValueError(
                f"SequenceEvaluator: samples of shape {tuple(tokens.shape)}, expected (N, {reference.shape[1]})"
            )
        out = {"kmer3_corr": kmer_correlation(tokens, reference, self.datamodule.vocab_size, 3)}
        oracle = self.datamodule.evaluation_oracle()
        if oracle is not None:
            with torch.no_grad():
                reward = oracle(tokens).float()
            out |= {"eval_reward_median": float(reward.median()), "eval_reward_mean": float(reward.mean())}
        if isinstance(oracle, MotifScanOracle):
            gen_hits, ref_hits = oracle.hits(tokens), oracle.hits(reference)
            out["motif_corr"] = motif_count_correlation(gen_hits, ref_hits)
            out["motif_hit_rate"] = float(gen_hits[:, : len(oracle.active)].mean())
        if self.pretrained_export:
            assert self.diffusion is not None
            net = load_exported_network(self.pretrained_export)
            out["elbo"] = float(log_likelihood(self.diffusion, net, tokens, passes=self.elbo_passes).mean())
        return out
