"""Simulation imposes the known forcing exactly with every solver; the control objective and its evaluation
are the discretised integrals of the paper, differentiable through the codec."""

from __future__ import annotations

import pytest
import torch

from condiff.core.networks import ConditionalUNet
from condiff.core.processes import VPProcess
from condiff.pde.codec import PixelCodec, WaveletCodec
from condiff.pde.control import ControlObjective, control, evaluate_forcing
from condiff.pde.fields import FORCING, STATE, trajectory_fields
from condiff.pde.physics import burgers, heat_forced, random_forcing, random_gaussian_bumps
from condiff.pde.simulate import forcing_mask, refine, simulate

T, N = 8, 16


def _setup(domain: str, cond_fields: int = 1) -> tuple[ConditionalUNet, PixelCodec, PixelCodec]:
    torch.manual_seed(0)
    codec = WaveletCodec(2, "bior2.4", 1) if domain == "wavelet" else PixelCodec(2)
    cond_codec = WaveletCodec(cond_fields, "bior2.4", 1) if domain == "wavelet" else PixelCodec(cond_fields)
    codec.scale = torch.linspace(0.5, 2.0, codec.state_channels)  # any scales: the replacement is exact anyway
    net = ConditionalUNet(
        codec.state_channels, cond_channels=cond_codec.state_channels, base_channels=8, channel_mults=[1, 2]
    )
    return net.eval(), codec, cond_codec


def _problem(b: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return random_gaussian_bumps(b, N, generator=g), random_forcing(b, T - 1, N, generator=g)


@pytest.mark.parametrize("domain", ["wavelet", "pixel"])
@pytest.mark.parametrize(
    ("method", "options"), [("ddim", {}), ("posterior", {}), ("dpm-solver++", {"order": 2}), ("unipc", {})]
)
def test_simulation_ends_on_the_known_forcing_with_every_solver(domain: str, method: str, options: dict) -> None:
    net, codec, cond_codec = _setup(domain)
    u0, f = _problem()
    process = VPProcess(schedule="cosine")
    last: list[torch.Tensor] = []
    out = simulate(net, process, "v", codec, cond_codec, u0, f, steps=6, method=method,
                   generator=torch.Generator().manual_seed(0), callback=lambda i, x, x0: last.append(x),
                   **options)  # fmt: skip
    assert out.u.shape == (2, T, N)
    torch.testing.assert_close(out.forcing, f.float(), atol=1e-5, rtol=1e-5)  # the final overwrite
    # Before it, the solver itself has carried the forcing channels to the known coefficients, up to the
    # noise left at t_min: the replacement acted at every step.
    known = codec.encode(trajectory_fields(torch.zeros(2, T, N), f.float()))
    channels = codec.field_channels(FORCING)
    gap = (last[-1] - known)[:, channels].abs().max().item()
    s_min = float(process.coefficients(torch.tensor(process.t_min)).s)
    assert gap < 6 * s_min
    assert out.nfe >= 6
    assert torch.isfinite(out.u).all()


def test_forcing_mask_selects_the_forcing_channels() -> None:
    codec = WaveletCodec(2, "db2", 1)
    mask = forcing_mask(codec).flatten()
    assert mask.tolist() == [float(c in codec.field_channels(FORCING)) for c in range(8)]
    assert not set(codec.field_channels(STATE)) & set(codec.field_channels(FORCING))


def test_control_objective_is_the_discretised_integral() -> None:
    target = torch.zeros(1, 4, dtype=torch.float64)
    obj = ControlObjective(target, alpha=0.5, t_final=2.0, length=1.0)
    u_final = torch.tensor([[1.0, -1.0, 2.0, 0.0]], dtype=torch.float64)
    forcing = torch.ones(1, 4, 4, dtype=torch.float64)  # nt = 4 intervals of dt = 0.5
    assert obj.target_error(u_final).item() == pytest.approx(0.25 * 6.0)  # dx = 1/4
    assert obj.cost(forcing).item() == pytest.approx(2.0)  # int_0^2 int_0^1 1 dx dt
    assert obj(u_final, forcing).item() == pytest.approx(1.5 + 0.5 * 2.0)


def test_evaluate_forcing_runs_the_solver() -> None:
    u0, f = _problem()
    target = burgers(u0, nt=T - 1, t_final=0.5, forcing=f)[:, -1]
    obj = ControlObjective(target, alpha=0.1, t_final=0.5)
    u, total, err, cost = evaluate_forcing(u0, f, obj)
    assert err.abs().max() < 1e-20  # the forcing that made the target reaches it exactly
    torch.testing.assert_close(total, 0.1 * cost)
    assert u.shape == (2, T, N)
    # another solver judges the same forcing differently
    linear = evaluate_forcing(u0, f, obj, solver=lambda a, b: heat_forced(a, nt=T - 1, t_final=0.5, forcing=b))
    torch.testing.assert_close(linear[0], heat_forced(u0, nt=T - 1, t_final=0.5, forcing=f))
    assert linear[2].min() > 1e-6


def test_control_returns_a_forcing_and_its_solver_trajectory() -> None:
    net, codec, cond_codec = _setup("wavelet", cond_fields=2)
    u0, _ = _problem()
    obj = ControlObjective(torch.zeros(2, N), alpha=0.01, t_final=0.5)
    res = control(net, VPProcess(schedule="cosine"), "v", codec, cond_codec, u0, obj, frames=T, weight=5.0,
                  condition_on_target=True, steps=4, generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert res.forcing.shape == (2, T - 1, N)
    again = burgers(u0, nt=T - 1, t_final=0.5, forcing=res.forcing.double())
    torch.testing.assert_close(res.u_solver, again.float())
    torch.testing.assert_close(res.objective, res.target_error + 0.01 * res.cost)
    assert res.nfe == 4


def test_refine_conditions_on_the_coarser_trajectory() -> None:
    net, codec, cond_codec = _setup("wavelet", cond_fields=2)
    u0, f = _problem()
    process = VPProcess(schedule="cosine")
    coarse = burgers(u0[:, ::2], nt=T - 1, t_final=0.5, forcing=f[..., ::2])

    def run(c: torch.Tensor) -> torch.Tensor:
        return refine(
            net, process, "v", codec, cond_codec, c, u0, f, steps=3, generator=torch.Generator().manual_seed(0)
        ).u

    out = run(coarse)
    assert out.shape == (2, T, N)
    assert not torch.allclose(out, run(torch.zeros_like(coarse)))  # the coarse trajectory reaches the network
    with pytest.raises(ValueError, match="u_coarse has"):
        refine(net, process, "v", codec, cond_codec, coarse[..., ::2], u0, f, steps=2)
