"""Lightning data modules of the DRAKES tasks: sequence sets for masked-diffusion pretraining and for fitting the
fine-tuning oracle, and the step counter that drives fine-tuning (DRAKES samples its own trajectories).

Sources (``source``):

* ``dna``: the built-in regulatory-like DNA (:class:`~condiff.molecules.drakes.dna.synthetic.RegulatoryDNA`),
  labels = motif-scan activity + ``N(0, label_noise^2)``; held-out sequences from another seed. Its evaluation
  oracle is the noise-free motif scan.
* ``protein``: built-in protein-like helices
  (:func:`~condiff.molecules.drakes.protein.stability.protein_like_sequences`), labels = stability proxy + noise;
  evaluation oracle: the proxy itself.
* ``fasta`` / ``csv``: the user's labelled sequences (e.g. the enhancer activity CSV of DRAKES); a deterministic
  ``val_fraction`` of the records is held out; no evaluation oracle (bring your own).

Batches (``emit``): ``tokens`` -> ``(tokens,)`` (unconditional pretraining); ``classes`` -> ``(tokens, class)`` with
class 1 for labels above the ``top_quantile`` of the training labels (classifier-free guidance training);
``labels`` -> ``(tokens, label)`` (the reward regressor).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

from condiff.core.errors import ConfigError, DataValidationError
from condiff.molecules.drakes.module import IterationDataset
from condiff.molecules.drakes.sequences import DNA, PROTEIN, SequenceSet, read_csv, read_fasta

__all__ = ["IterationDataModule", "SequenceDataModule", "builtin_oracle"]

SOURCES = ("dna", "protein", "fasta", "csv")
EMITS = ("tokens", "classes", "labels")


class SequenceDataModule(L.LightningDataModule):
    """Labelled sequence sets (module docstring) as ``DataLoader`` s of ``emit`` batches.

    Args:
        source: ``dna`` | ``protein`` | ``fasta`` | ``csv``.
        path: the FASTA / CSV file for the file sources.
        length: sequence length of the built-in sets (files keep their own, which must be equal).
        num_train, num_val: sizes of the built-in sets.
        label_noise: standard deviation of the label noise of the built-in sets.
        emit: ``tokens`` | ``classes`` | ``labels``.
        top_quantile: the class threshold of ``emit=classes``.
        val_fraction: held-out share of a file source.
        sequence_column, label_column: CSV columns.
        data_seed: seed of the built-in sets and of the file split.
    """

    def __init__(
        self,
        source: str = "dna",
        path: str | None = None,
        length: int = 200,
        num_train: int = 4096,
        num_val: int = 512,
        label_noise: float = 1.0,
        emit: str = "tokens",
        top_quantile: float = 0.8,
        val_fraction: float = 0.1,
        sequence_column: str = "sequence",
        label_column: str | None = "label",
        batch_size: int = 64,
        num_workers: int = 0,
        data_seed: int = 0,
    ) -> None:
        super().__init__()
        if source not in SOURCES:
            raise ConfigError(f"config key 'task.datamodule.source' = {source!r}: expected one of {SOURCES}")
        if emit not in EMITS:
            raise ConfigError(f"config key 'task.datamodule.emit' = {emit!r}: expected one of {EMITS}")
        if source in ("fasta", "csv") and not path:
            raise ConfigError(f"config key 'task.datamodule.path' is needed for source={source!r}")
        if not 0.0 < val_fraction < 1.0:
            raise ConfigError(f"config key 'task.datamodule.val_fraction' = {val_fraction}: expected in (0, 1)")
        self.source, self.path, self.length = source, path, int(length)
        self.num_train, self.num_val, self.label_noise = int(num_train), int(num_val), float(label_noise)
        self.emit, self.top_quantile, self.val_fraction = emit, float(top_quantile), float(val_fraction)
        self.sequence_column, self.label_column = sequence_column, label_column
        self.batch_size, self.num_workers, self.data_seed = int(batch_size), int(num_workers), int(data_seed)
        self.alphabet = PROTEIN if source == "protein" else DNA
        self._sets: tuple[SequenceSet, SequenceSet] | None = None

    @property
    def vocab_size(self) -> int:
        return len(self.alphabet)

    def _builtin(self) -> tuple[SequenceSet, SequenceSet]:
        if self.source == "dna":
            from condiff.molecules.drakes.dna.synthetic import RegulatoryDNA

            gen = RegulatoryDNA.default(self.data_seed)
            splits = ((self.num_train, 2 * self.data_seed), (self.num_val, 2 * self.data_seed + 1))
            parts = [gen.labelled(n, self.length, seed=s, label_noise=self.label_noise)[:2] for n, s in splits]
        else:
            from condiff.molecules.drakes.protein.stability import StabilityProxy, protein_like_sequences

            proxy = StabilityProxy()
            parts = []
            for n, s in ((self.num_train, 2 * self.data_seed), (self.num_val, 2 * self.data_seed + 1)):
                tokens = protein_like_sequences(n, self.length, seed=s)
                noise = torch.randn(n, generator=torch.Generator().manual_seed(s + 7919))
                parts.append((tokens, proxy(tokens).float() + self.label_noise * noise))
        return tuple(SequenceSet(t, y, [str(i) for i in range(len(t))]) for t, y in parts)  # type: ignore[return-value]

    def _files(self) -> tuple[SequenceSet, SequenceSet]:
        assert self.path is not None
        path = Path(self.path).expanduser()
        if self.source == "fasta":
            data = read_fasta(path, self.alphabet)
        else:
            data = read_csv(path, self.alphabet, self.sequence_column, self.label_column)
        if self.emit != "tokens" and data.labels is None:
            raise DataValidationError(f"{path}: emit={self.emit!r} needs a label for every record")
        n = data.tokens.shape[0]
        n_val = max(1, round(self.val_fraction * n))
        if n - n_val < 1:
            raise DataValidationError(f"{path}: {n} records cannot be split into training and held-out sets")
        order = torch.randperm(n, generator=torch.Generator().manual_seed(self.data_seed))
        val, train = order[:n_val], order[n_val:]

        def take(idx: Tensor) -> SequenceSet:
            labels = data.labels[idx] if data.labels is not None else None
            return SequenceSet(data.tokens[idx], labels, [data.names[i] for i in idx.tolist()])

        return take(train), take(val)

    def sets(self) -> tuple[SequenceSet, SequenceSet]:
        """``(training, held-out)`` sequence sets, built once."""
        if self._sets is None:
            self._sets = self._builtin() if self.source in ("dna", "protein") else self._files()
        return self._sets

    def setup(self, stage: str | None = None) -> None:
        self.sets()

    def _dataset(self, data: SequenceSet, threshold: float | None) -> TensorDataset:
        if self.emit == "tokens":
            return TensorDataset(data.tokens)
        assert data.labels is not None
        if self.emit == "labels":
            return TensorDataset(data.tokens, data.labels)
        assert threshold is not None
        return TensorDataset(data.tokens, (data.labels > threshold).long())

    def _threshold(self) -> float | None:
        labels = self.sets()[0].labels
        return float(labels.quantile(self.top_quantile)) if labels is not None and self.emit == "classes" else None

    def train_dataloader(self) -> DataLoader:
        gen = torch.Generator().manual_seed(self.data_seed)
        return DataLoader(self._dataset(self.sets()[0], self._threshold()), batch_size=self.batch_size,
                          shuffle=True, drop_last=True, generator=gen, num_workers=self.num_workers)  # fmt: skip

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self._dataset(self.sets()[1], self._threshold()), batch_size=self.batch_size)

    def reference_tokens(self) -> Tensor:
        """Held-out sequences: the reference of the naturalness metrics (k-mer correlation)."""
        return self.sets()[1].tokens

    def evaluation_oracle(self) -> Callable[[Tensor], Tensor] | None:
        """The task's evaluation oracle on token ids ``(B, L) -> (B,)``; ``None`` for user files."""
        return builtin_oracle(self.source, self.data_seed) if self.source in ("dna", "protein") else None


def builtin_oracle(source: str, data_seed: int = 0) -> Callable[[Tensor], Tensor]:
    """Evaluation oracle of a built-in set: the noise-free motif scan (``dna``) or the stability proxy
    (``protein``); both take token ids or one-hot sequences."""
    if source == "dna":
        from condiff.molecules.drakes.dna.synthetic import RegulatoryDNA

        return RegulatoryDNA.default(data_seed).oracle()
    if source == "protein":
        from condiff.molecules.drakes.protein.stability import StabilityProxy

        return StabilityProxy()
    raise ConfigError(f"builtin_oracle: source {source!r} has no built-in oracle (expected 'dna' or 'protein')")


class IterationDataModule(L.LightningDataModule):
    """Epochs of ``epoch_length`` empty items, one DRAKES optimizer step each (:class:`IterationDataset`); the
    trainer's ``max_steps`` ends training, the epoch length sets how often a resumable checkpoint is written."""

    def __init__(self, epoch_length: int = 50) -> None:
        super().__init__()
        if not isinstance(epoch_length, int) or epoch_length < 1:
            raise ConfigError(f"config key 'task.datamodule.epoch_length' = {epoch_length!r}: expected an integer >= 1")
        self.epoch_length = epoch_length

    def train_dataloader(self) -> DataLoader:
        return DataLoader(IterationDataset(self.epoch_length), batch_size=None)
