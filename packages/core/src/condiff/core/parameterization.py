"""What the network predicts, and pure conversions between its output and ``(x0_hat, eps_hat)``.

For the path ``x = a x0 + b y + s eps`` write ``r = x - b y = a x0 + s eps``. Each
parameterization is an invertible linear map of ``(x0, eps)`` at fixed ``(x, t, y)``:

| kind | network output | ``(x0, eps)`` from output ``o`` |
|---|---|---|
| ``eps`` | ``eps`` (Ho et al. 2020) | ``x0 = (r - s o) / a`` |
| ``x0`` | ``x0`` | ``eps = (r - a o) / s`` |
| ``v`` | ``(a eps - s x0) / n``, ``n = sqrt(a^2 + s^2)`` | ``x0 = (a r - s n o)/n^2``, ``eps = (s r + a n o)/n^2`` |
| ``score`` | ``grad log p(x | x0, y) = -eps / s`` | ``eps = -s o``, ``x0 = (r + s^2 o) / a`` |
| ``residual`` | ``y - x0`` (RDDM) | ``x0 = y - o``, ``eps = (r - a x0) / s`` |
| ``residual_eps`` | tuple ``(y - x0, eps)`` (RDDM's two heads) | ``x0 = y - o[0]``, ``eps = o[1]`` |
| ``x0_eps`` | tuple ``(x0, eps)`` (RDDM's ``pred_x0_noise``) | ``x0 = o[0]``, ``eps = o[1]`` |
| ``flow`` | ``dx/dt = a' x0 + b' y + s' eps`` | solve ``[[a, s], [a', s']] (x0, eps) = (r, o - b' y)`` |

``v`` is Salimans & Ho's (2022) ``v = alpha eps - sigma x0`` for VP (``a^2 + s^2 = 1``): the
velocity of ``x`` along the angle ``phi = atan(s/a)`` of the ``(a, s)`` plane. The
normalisation by ``n`` keeps it unit-variance for other processes and makes both
conversions finite wherever ``a`` or ``s`` vanishes.
"""

from __future__ import annotations

from torch import Tensor

from condiff.core.processes.base import (
    GaussianProcess,
    PathCoefficients,
    check_condition,
    check_same_shape,
    expand_like,
)

PARAMETERIZATIONS = ("eps", "x0", "v", "score", "residual", "residual_eps", "x0_eps", "flow")
TWO_HEADS = ("residual_eps", "x0_eps")
_NEEDS_Y = ("residual", "residual_eps")

Output = Tensor | tuple[Tensor, Tensor]


def check_parameterization(kind: str) -> str:
    """Return ``kind`` if it names a known parameterization, else raise ``ValueError``."""
    if kind not in PARAMETERIZATIONS:
        raise ValueError(f"unknown parameterization {kind!r}; expected one of {PARAMETERIZATIONS}")
    return kind


def _coefs(process: GaussianProcess, t: Tensor, x: Tensor) -> tuple[Tensor, ...]:
    c: PathCoefficients = process.coefficients64(t)
    return tuple(expand_like(v, x) for v in (c.a, c.b, c.s, c.da, c.db, c.ds))


def _require_y(kind: str, y: Tensor | None) -> Tensor:
    if y is None:
        raise ValueError(f"parameterization {kind!r} predicts the residual y - x0 and needs the condition y")
    return y


def to_x0_eps(
    kind: str,
    output: Output,
    x: Tensor,
    t: Tensor,
    process: GaussianProcess,
    y: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Turn a network output of parameterization ``kind`` into ``(x0_hat, eps_hat)``.

    Args:
        kind: one of :data:`PARAMETERIZATIONS`.
        output: ``(B, ...)`` shaped like ``x``; for the two-head kinds a tuple of two such tensors.
        x: ``(B, ...)`` state at time ``t``.
        t: ``(B,)`` or ``()`` times.
        process: the path ``x = a x0 + b y + s eps``.
        y: condition broadcastable to ``x``, or ``None`` (taken as zero except for residuals).

    Returns:
        ``(x0_hat, eps_hat)``, each shaped like ``x``, in ``x``'s dtype.
    """
    check_parameterization(kind)
    check_condition(y, x)
    if kind in TWO_HEADS:
        first = "residual" if kind == "residual_eps" else "x0"
        if not isinstance(output, tuple) or len(output) != 2:
            raise ValueError(f"parameterization {kind!r} expects a tuple output ({first}, eps)")
        check_same_shape(f"{first} head", output[0], x)
        check_same_shape("eps head", output[1], x)
        return (_require_y(kind, y) - output[0] if kind == "residual_eps" else output[0]), output[1]
    if isinstance(output, tuple):
        raise ValueError(f"parameterization {kind!r} expects a tensor output, got a tuple")
    check_same_shape(f"{kind} output", output, x)
    a, b, s, da, db, ds = _coefs(process, t, x)
    r = x if y is None else x - b * y
    if kind == "eps":
        return (r - s * output) / a, output
    if kind == "x0":
        return output, (r - a * output) / s
    if kind == "v":
        n2 = a * a + s * s
        n = n2.sqrt()
        return (a * r - s * n * output) / n2, (s * r + a * n * output) / n2
    if kind == "score":
        return (r + s * s * output) / a, -s * output
    if kind == "residual":
        x0 = _require_y(kind, y) - output
        return x0, (r - a * x0) / s
    # flow: the Jacobian determinant a s' - s a' = -a s lambda' is > 0 for a diffusion
    w = output if y is None else output - db * y
    det = a * ds - s * da
    return (ds * r - s * w) / det, (a * w - da * r) / det


def from_x0_eps(
    kind: str,
    x0: Tensor,
    eps: Tensor,
    t: Tensor | None = None,
    process: GaussianProcess | None = None,
    y: Tensor | None = None,
) -> Output:
    """The output of parameterization ``kind`` that corresponds to ``(x0, eps)``; inverse of :func:`to_x0_eps`.

    Args:
        kind: one of :data:`PARAMETERIZATIONS`.
        x0: ``(B, ...)`` clean data (or its estimate).
        eps: ``(B, ...)`` noise (or its estimate).
        t: ``(B,)`` or ``()``; required for ``v``, ``score`` and ``flow``.
        process: required for ``v``, ``score`` and ``flow``.
        y: condition; required for ``residual`` and ``residual_eps``.
    """
    check_parameterization(kind)
    check_same_shape("eps", eps, x0)
    check_condition(y, x0)
    if kind == "eps":
        return eps
    if kind == "x0":
        return x0
    if kind == "residual":
        return _require_y(kind, y) - x0
    if kind == "residual_eps":
        return _require_y(kind, y) - x0, eps
    if kind == "x0_eps":
        return x0, eps
    if process is None or t is None:
        raise ValueError(f"parameterization {kind!r} depends on the process and the time: pass process= and t=")
    a, _, s, da, db, ds = _coefs(process, t, x0)
    if kind == "v":
        return (a * eps - s * x0) / (a * a + s * s).sqrt()
    if kind == "score":
        return -eps / s
    u = da * x0 + ds * eps
    return u if y is None else u + db * y


def regression_target(
    kind: str,
    x0: Tensor,
    eps: Tensor,
    *,
    process: GaussianProcess | None = None,
    t: Tensor | None = None,
    y: Tensor | None = None,
) -> Output:
    """The regression target of parameterization ``kind`` for a clean ``x0`` and noise ``eps``.

    ``eps`` and ``x0`` need nothing else; ``v``, ``score`` and ``flow`` need ``process`` and
    ``t``; the residual kinds need ``y``. See :func:`from_x0_eps`.
    """
    return from_x0_eps(kind, x0, eps, t=t, process=process, y=y)
