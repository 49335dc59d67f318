"""Class-conditional generation of scikit-learn's 8x8 handwritten digits (the quickstart)."""

from condiff.core.tasks.digits.classifier import DigitsClassifier, load_or_train_classifier
from condiff.core.tasks.digits.data import DigitsDataModule, load_digits_splits
from condiff.core.tasks.digits.evaluate import DigitsEvaluator

__all__ = ["DigitsClassifier", "DigitsDataModule", "DigitsEvaluator", "load_digits_splits", "load_or_train_classifier"]
