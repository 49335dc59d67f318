"""The GeoTDM denoiser: the equivariant temporal network, its conditioning mask and its geometric prior."""

from __future__ import annotations

from torch import Tensor, nn

from condiff.core.errors import ConfigError, DataValidationError
from condiff.molecules.geotdm.masks import frame_gaps, frame_mask
from condiff.molecules.geotdm.network import GeoTDMNetwork
from condiff.molecules.geotdm.prior import GeometricPrior


class GeoTDMModel(nn.Module):
    """Noise predictor ``eps_theta(x_t, t)`` over whole trajectories and the prior mean ``mu`` it is trained with.

    The network sees all ``T`` frames: the given ones hold the condition, the generated ones the noisy state,
    and a per-frame flag says which is which (Han et al. 2024, Sec. 4.1-4.2). Its output is E(3)-equivariant and
    translation invariant, as a noise prediction must be.

    Args:
        mode: ``uncond``, ``forecast`` (first ``num_given`` frames given) or ``interp`` (first ``num_given`` and
            last ``num_given_end`` given).
        num_frames: trajectory length ``T``.
        prior: ``learned``, ``last`` or ``com`` (see :mod:`~condiff.molecules.geotdm.prior`); ignored for uncond.
        node_dim, edge_dim, hidden, num_layers, heads, time_dim: sizes of :class:`GeoTDMNetwork`.
        spatial, lmax: the spatial layer (``egnn`` or ``e3nn`` with irreps up to degree ``lmax``).
        planar: the trajectories lie in the x-y plane (``z = 0``, e.g. ETH-UCY): noise, states, the prior and the
            samples are projected to it (:class:`~condiff.molecules.geotdm.process.TrajectoryProjection`), and
            training data with ``z != 0`` are an error. The network is unchanged: an E(3)-equivariant map restricted
            to the plane is E(2)-equivariant (rotations about z, reflections and translations in the plane).
        prior_layers: layers of the learned prior's network (GeoTDM: 2).
        sigma_data: the std assumed by the skip connection of :meth:`predict_eps`: of ``x0`` (unconditional) or
            of ``x0 - mu`` per frame of distance to the nearest given frame (conditional: a generated frame ``d``
            frames away has std ``d sigma_data``); 0 disables it (the network alone predicts the noise, as in
            GeoTDM).
    """

    given: Tensor
    gap: Tensor

    def __init__(
        self,
        mode: str = "forecast",
        num_frames: int = 30,
        num_given: int = 10,
        num_given_end: int = 0,
        prior: str = "learned",
        node_dim: int = 1,  # e.g. the charge
        edge_dim: int = 1,  # e.g. q_i q_j
        hidden: int = 128,
        num_layers: int = 6,
        heads: int = 4,
        time_dim: int = 32,
        prior_layers: int = 2,
        sigma_data: float = 0.0,
        spatial: str = "egnn",  # "e3nn": tensor-product spatial layers (optional extra geotdm-e3nn)
        lmax: int = 2,  # e3nn: highest degree of the message irreps
        planar: bool = False,  # states in the x-y plane (z = 0)
    ) -> None:
        super().__init__()
        self.mode, self.num_frames, self.planar = mode, int(num_frames), bool(planar)
        mask = frame_mask(mode, num_frames, num_given if mode != "uncond" else 0, num_given_end)
        self.register_buffer("given", mask, persistent=False)
        self.register_buffer("gap", frame_gaps(mask), persistent=False)
        if sigma_data < 0:
            raise ConfigError(f"GeoTDMModel: sigma_data must be >= 0, got {sigma_data}")
        self.sigma_data = float(sigma_data)
        self.network = GeoTDMNetwork(
            node_dim, edge_dim, hidden, num_layers, heads, time_dim, spatial=spatial, lmax=lmax
        )
        self.prior: GeometricPrior | None = None
        if mode != "uncond":
            self.prior = GeometricPrior(prior, mask, node_dim, edge_dim, hidden, prior_layers, heads, time_dim)

    @property
    def conditional(self) -> bool:
        return self.prior is not None

    @property
    def generated(self) -> Tensor:
        """``(T,)`` bool, True on the generated frames."""
        return ~self.given

    def forward(
        self,
        x: Tensor,
        t: Tensor,
        batch: Tensor,
        *,
        node_attr: Tensor | None = None,
        edge_index: Tensor | None = None,
        edge_attr: Tensor | None = None,
    ) -> Tensor:
        """``x: (M, T, 3)``, ``t: (B,)`` diffusion time per system, ``batch: (M,)`` -> predicted noise (M, T, 3)."""
        self._check_frames(x)
        cond = self.given if self.conditional else None
        dx, _ = self.network(
            x, t, batch, node_attr=node_attr, cond_mask=cond, edge_index=edge_index, edge_attr=edge_attr
        )
        return dx

    def predict_eps(
        self,
        x: Tensor,
        t: Tensor,
        batch: Tensor,
        a: Tensor,
        s: Tensor,
        mu: Tensor | None,
        *,
        node_attr: Tensor | None = None,
        edge_index: Tensor | None = None,
        edge_attr: Tensor | None = None,
    ) -> Tensor:
        """Noise prediction preconditioned around the prior mean (Karras et al. 2022, Table 1, in noise form).

        With ``x0 - mu ~ N(0, sigma^2)`` (``sigma`` per frame, see ``sigma_data``) and ``r = x - mu``,
        ``E[eps | x_t] = s r / (a^2 sigma^2 + s^2)`` and the remaining error has std
        ``c_out = a sigma / sqrt(a^2 sigma^2 + s^2)``; so ``eps_hat = s r / (a^2 sigma^2 + s^2) + c_out F(x, t)``:
        the network ``F`` learns only what the prior does not explain, at unit scale, and cannot disturb the
        nearly pure noise of early steps (``c_out -> 0`` as ``a -> 0``). Translation invariant and rotation
        equivariant like ``F``. ``a, s: (M,)`` path coefficients per node; ``mu = None`` (unconditional, centred
        states) means ``mu = 0``.
        """
        out = self(x, t, batch, node_attr=node_attr, edge_index=edge_index, edge_attr=edge_attr)
        if self.sigma_data == 0:
            return out
        a3, s3 = a.to(x.dtype)[:, None, None], s.to(x.dtype)[:, None, None]
        # mu is a constant of the preconditioner: through it, the eps loss would regress mu onto x0 with weight
        # a^2 / s^2 (huge near t = 0) and swamp every other gradient.
        r = x if mu is None else x - mu.detach()
        sigma = self.sigma_data * self.gap.to(x.dtype)[None, :, None]
        var = a3.square() * sigma.square() + s3.square()
        return s3 * r / var + a3 * sigma / var.sqrt() * out

    def prior_mean(
        self,
        x: Tensor,
        batch: Tensor,
        *,
        node_attr: Tensor | None = None,
        edge_index: Tensor | None = None,
        edge_attr: Tensor | None = None,
    ) -> Tensor | None:
        """``mu: (M, T, 3)`` from the given frames of ``x`` (``None`` for unconditional generation)."""
        if self.prior is None:
            return None
        self._check_frames(x)
        return self.prior(x, batch, node_attr=node_attr, edge_index=edge_index, edge_attr=edge_attr)

    def check_planar(self, x: Tensor, where: str) -> None:
        """Raise :class:`DataValidationError` naming ``where`` if the model is planar and ``x`` has ``z != 0``."""
        if self.planar and bool((x[..., 2] != 0).any()):
            worst = float(x[..., 2].abs().max())
            raise DataValidationError(
                f"{where}: the model is planar (task.network.planar=true) but the trajectories have z != 0 "
                f"(max |z| = {worst:.3g}); planar data must be lifted to 3D with z = 0"
            )

    def _check_frames(self, x: Tensor) -> None:
        if x.ndim != 3 or x.shape[1] != self.num_frames:
            raise ConfigError(
                f"GeoTDMModel: trajectories of {self.num_frames} frames expected (num_frames), got {tuple(x.shape)}"
            )
