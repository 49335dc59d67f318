"""Config validation and instantiation with errors that name the offending key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from condiff.core.errors import ConfigError


def instantiate_node(cfg: DictConfig, key: str, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate(cfg[key])``, re-raising any failure as :class:`ConfigError` naming ``key``."""
    node = OmegaConf.select(cfg, key)
    if node is None:
        raise ConfigError(f"config key '{key}' is missing")
    try:
        return instantiate(node, **kwargs)
    except Exception as e:
        cause = e.__cause__ or e
        raise ConfigError(
            f"config key '{key}' ({node.get('_target_', '?') if isinstance(node, DictConfig) else node}): {cause}"
        ) from e


def _check(cfg: DictConfig, key: str, ok: Callable[[Any], bool], expected: str) -> None:
    value = OmegaConf.select(cfg, key, throw_on_missing=False)
    try:
        good = ok(value)
    except Exception:
        good = False
    if not good:
        raise ConfigError(f"config key '{key}' has a bad value {value!r}: expected {expected}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def validate_train_config(cfg: DictConfig) -> None:
    """Check the values the training run depends on before anything is built or written."""
    from condiff.core.parameterization import PARAMETERIZATIONS
    from condiff.core.sampling import METHODS

    _check(cfg, "seed", _is_int, "an integer")
    _check(cfg, "param.name", lambda v: v in PARAMETERIZATIONS, f"one of {PARAMETERIZATIONS}")
    _check(cfg, "module.lr", lambda v: _is_num(v) and v > 0, "a positive number")
    _check(cfg, "module.weight_decay", lambda v: _is_num(v) and v >= 0, "a number >= 0")
    _check(cfg, "module.warmup_steps", lambda v: _is_int(v) and v >= 0, "an integer >= 0")
    _check(cfg, "module.ema_decay", lambda v: _is_num(v) and 0 <= v < 1, "a number in [0, 1)")
    _check(cfg, "module.cond_drop_prob", lambda v: _is_num(v) and 0 <= v < 1, "a number in [0, 1)")
    _check(cfg, "module.num_val_samples", lambda v: _is_int(v) and v >= 1, "an integer >= 1")
    _check(cfg, "trainer.max_steps", lambda v: _is_int(v) and v >= 1, "an integer >= 1")
    _check(cfg, "trainer.devices", lambda v: _is_int(v) or v == "auto", "an integer or 'auto'")
    validate_sampler_config(cfg, "sampler")
    _check(cfg, "sampler.method", lambda v: v in METHODS, f"one of {sorted(METHODS)}")


def _is_time_list(v: Any) -> bool:
    from omegaconf import ListConfig

    return isinstance(v, list | ListConfig) and len(v) >= 2 and all(_is_num(x) for x in v)


def validate_sampler_config(cfg: DictConfig, key: str = "sampler") -> None:
    """Check the sampler node ``key`` of ``cfg``."""
    from condiff.core.sampling import METHODS
    from condiff.core.sampling.grids import GRIDS

    _check(cfg, f"{key}.steps", lambda v: _is_int(v) and v >= 1, "an integer >= 1")
    _check(cfg, f"{key}.method", lambda v: v in METHODS, f"one of {sorted(METHODS)}")
    _check(cfg, f"{key}.schedule", lambda v: v in GRIDS or _is_time_list(v), f"one of {GRIDS} or a list of times")
    _check(cfg, f"{key}.guidance", _is_num, "a number")
    if OmegaConf.select(cfg, f"{key}.eta") is not None:
        _check(cfg, f"{key}.eta", lambda v: _is_num(v) and v >= 0, "a number >= 0")


def sampler_options(cfg: DictConfig, key: str = "sampler") -> dict[str, Any]:
    """The sampler node as plain keyword arguments for :func:`condiff.core.sampling.sample`."""
    opts = OmegaConf.to_container(OmegaConf.select(cfg, key), resolve=True)
    assert isinstance(opts, dict)
    return {str(k): v for k, v in opts.items()}
