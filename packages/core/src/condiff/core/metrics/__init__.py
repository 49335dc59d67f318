"""Metrics shared by tasks."""

from condiff.core.metrics.frechet import frechet_distance, frechet_distance_features, gaussian_stats

__all__ = ["frechet_distance", "frechet_distance_features", "gaussian_stats"]
