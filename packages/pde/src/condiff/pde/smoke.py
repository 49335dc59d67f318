"""2-D incompressible smoke in a box with exits on the top wall, driven by a controllable force field.

The WDNO paper's 2-D control task (after DiffPhyCon): smoke is released near the bottom of a closed box whose
top wall has several openings ("exits"); a force field in the fluid steers it, and the goal is to send as much
smoke as possible out through one target exit. Equations (unit fluid density, inviscid, Boussinesq buoyancy):

    u_t + (u . grad) u = -grad p + f + b rho e_y - k u,     div u = 0,     rho_t + div(rho u) = 0

on ``[0, 1]^2`` with no-through walls (``u . n = 0``) and ``p = 0`` on the openings: the exits in the top wall
and an inlet in the bottom wall (by default the whole bottom: a chimney, fresh air drawn in from below as the
smoke rises), open to still air, so fluid and smoke may pass in either direction.

Discretisation (Stam's "stable fluids" on a MAC grid, ``n x n`` cells of size ``h = 1 / n``), one step ``dt``:

1. forces: ``u <- exp(-k dt) u + dt (f + b rho e_y)``, the force averaged onto the faces;
2. velocity self-advection, semi-Lagrangian (backward): ``u_new(x) = u(x - dt u(x))``, bilinear on each
   staggered component;
3. pressure projection: ``u <- u - G p`` with ``G^T G p = G^T u`` (``G^T G`` is the 5-point Laplacian with
   Neumann walls and Dirichlet openings, solved exactly by :class:`_PoissonSolver`: a separable eigenbasis plus a
   Woodbury correction for the openings), so the discrete divergence ``D u = -G^T u / h`` is zero to rounding;
4. density advection, semi-Lagrangian (forward, mass-conserving): the mass of each cell moves to
   ``x + dt u(x)`` and is shared bilinearly among the four nearest cell centres. Mass pushed through an
   opening has left the box there (and is counted per opening); mass pushed into a wall stays in the
   adjacent cell. So ``sum(rho) h^2 + sum(outflow) = released mass`` holds to rounding at every step.

Everything is batched, in the dtype of the inputs, and deterministic (no randomness inside the solver).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import Tensor

DEFAULT_EXITS: tuple[tuple[float, float], ...] = ((0.125, 0.25), (0.4375, 0.5625), (0.75, 0.875))


@dataclass(frozen=True)
class SmokeBox:
    """The scene: grid, exits, buoyancy and time stepping.

    Attributes:
        n: cells per side of the square box ``[0, 1]^2``.
        exits: openings of the top wall as ``(x_start, x_stop)`` fractions of the width, left to right.
        target: index of the target exit (the control goal).
        buoyancy: ``b`` of the buoyancy force ``b rho e_y`` (m s^-2 per unit density).
        t_final: time of the last frame (s).
        nt: frame intervals; the force is constant on each ``[t_k, t_{k+1})``.
        substeps: solver steps per frame interval (``dt = t_final / (nt substeps)``).
        inlet: the opening of the bottom wall as ``(x_start, x_stop)``, or None for a closed bottom (then the
            total flux through the exits is zero: smoke leaves through one only as air enters through another).
        damping: ``k`` of the linear (Rayleigh) friction ``-k u`` (s^-1): without any friction, a force that
            drives fluid from the inlet through a narrow exit accelerates it without bound.
    """

    n: int = 32
    exits: tuple[tuple[float, float], ...] = DEFAULT_EXITS
    target: int = 1
    buoyancy: float = 16.0
    t_final: float = 1.5
    nt: int = 15
    substeps: int = 4
    inlet: tuple[float, float] | None = (0.0, 1.0)
    damping: float = 2.0

    def __post_init__(self) -> None:
        if self.n < 4:
            raise ValueError(f"SmokeBox.n must be at least 4, got {self.n}")
        if self.nt < 1 or self.substeps < 1 or self.t_final <= 0:
            raise ValueError(
                f"need nt >= 1, substeps >= 1, t_final > 0; got {self.nt}, {self.substeps}, {self.t_final}"
            )
        cols = self.exit_columns()
        if not cols:
            raise ValueError("SmokeBox.exits must name at least one opening")
        for k, c in enumerate(cols):
            if len(c) == 0:
                raise ValueError(f"exit {k} {self.exits[k]} covers no cell on a {self.n}-cell grid")
        flat = [i for c in cols for i in c]
        if len(set(flat)) != len(flat):
            raise ValueError(f"exits {self.exits} overlap on a {self.n}-cell grid")
        if self.inlet is not None and not self.inlet_columns():
            raise ValueError(f"inlet {self.inlet} covers no cell on a {self.n}-cell grid")
        if not 0 <= self.target < len(cols):
            raise ValueError(f"target exit {self.target} outside [0, {len(cols)})")

    @property
    def h(self) -> float:
        """Cell size."""
        return 1.0 / self.n

    @property
    def dt(self) -> float:
        """Solver time step."""
        return self.t_final / (self.nt * self.substeps)

    def exit_columns(self) -> list[list[int]]:
        """Columns (cell indices along x) of each exit: cells whose centre lies in ``[x_start, x_stop)``."""
        cols = []
        for a, b in self.exits:
            if not 0 <= a < b <= 1:
                raise ValueError(f"exit {(a, b)} must satisfy 0 <= start < stop <= 1")
            cols.append([i for i in range(self.n) if a <= (i + 0.5) / self.n < b])
        return cols

    def inlet_columns(self) -> list[int]:
        """Columns of the bottom opening (empty without one)."""
        if self.inlet is None:
            return []
        a, b = self.inlet
        if not 0 <= a < b <= 1:
            raise ValueError(f"inlet {(a, b)} must satisfy 0 <= start < stop <= 1")
        return [i for i in range(self.n) if a <= (i + 0.5) / self.n < b]

    def inlet_mask(self, device: torch.device | None = None) -> Tensor:
        """``(n,)`` 0/1 float64 mask of the bottom-row columns of the inlet."""
        mask = torch.zeros(self.n, dtype=torch.float64, device=device)
        mask[self.inlet_columns()] = 1.0
        return mask

    def exit_mask(self, device: torch.device | None = None) -> Tensor:
        """``(K, n)`` 0/1 float64 masks of the top-row columns of each exit."""
        mask = torch.zeros(len(self.exits), self.n, dtype=torch.float64, device=device)
        for k, c in enumerate(self.exit_columns()):
            mask[k, c] = 1.0
        return mask


@dataclass
class SmokeState:
    """Fields on the MAC grid: ``rho (B, n, n)`` at cell centres ``[row y, column x]``; ``u (B, n, n + 1)`` the
    x-velocity on vertical faces; ``v (B, n + 1, n)`` the y-velocity on horizontal faces (row ``n`` = top wall)."""

    rho: Tensor
    u: Tensor
    v: Tensor

    def centred_velocity(self) -> Tensor:
        """``(B, 2, n, n)``: ``(vx, vy)`` at the cell centres, the mean of the two faces of each cell."""
        return torch.stack([(self.u[..., :-1] + self.u[..., 1:]) / 2, (self.v[:, :-1] + self.v[:, 1:]) / 2], dim=1)


def _neumann_1d(n: int, dirichlet_first: bool = False) -> Tensor:
    """The 1-D Neumann Laplacian ``tridiag(-1, 2, -1)`` with ``1`` at both ends (``2`` at the first entry with a
    Dirichlet face ``p = 0`` there)."""
    t = 2 * torch.eye(n, dtype=torch.float64) - torch.diag(torch.ones(n - 1, dtype=torch.float64), 1)
    t = t - torch.diag(torch.ones(n - 1, dtype=torch.float64), -1)
    t[0, 0] = 2.0 if dirichlet_first else 1.0
    t[-1, -1] = 1.0
    return t


@dataclass(frozen=True)
class _PoissonSolver:
    """``L^{-1}`` for ``L = G^T G``: the 5-point Laplacian with Neumann walls and a Dirichlet face ``p = 0`` on
    every opening, on cells ``(row y, column x)``.

    ``L = L0 + E S E^T``: ``L0 = T_y^D (x) I + I (x) T_x`` is separable (Neumann in ``x``; in ``y`` Neumann at
    the top and Dirichlet along the whole bottom) and inverted in its eigenbasis,
    ``L0^{-1} R = V_y [(V_y^T R V_x) / (l_y + l_x)] V_x^T``; ``E S E^T`` corrects the ``r`` boundary cells where
    the box differs (``+1`` under each exit cell, ``-1`` over each closed bottom cell), by the Woodbury
    identity ``L^{-1} = L0^{-1} - W (S^{-1} + E^T W)^{-1} W^T``, ``W = L0^{-1} E``. A solve costs
    ``O(n^3 + n^2 r)`` per field.
    """

    vx: Tensor
    lx: Tensor
    vy: Tensor
    ly: Tensor
    cells: Tensor  # (r,) flat indices j n + i
    w: Tensor  # (r, n, n) = L0^{-1} e_c
    capacitance_inv: Tensor  # (r, r)

    def solve0(self, rhs: Tensor) -> Tensor:
        modal = self.vy.T @ rhs @ self.vx
        return self.vy @ (modal / (self.ly[:, None] + self.lx[None, :])) @ self.vx.T

    def __call__(self, rhs: Tensor) -> Tensor:
        """``L^{-1} rhs`` for ``rhs (B, n, n)``."""
        p0 = self.solve0(rhs)
        b, n = rhs.shape[0], rhs.shape[-1]
        coef = p0.reshape(b, n * n)[:, self.cells] @ self.capacitance_inv.T  # (B, r)
        return p0 - torch.einsum("br,rij->bij", coef, self.w)


@functools.lru_cache(maxsize=8)
def _poisson_solver(
    n: int, exit_cols: tuple[int, ...], inlet_cols: tuple[int, ...], dtype: torch.dtype, device: str
) -> _PoissonSolver:
    lx, vx = torch.linalg.eigh(_neumann_1d(n))
    ly, vy = torch.linalg.eigh(_neumann_1d(n, dirichlet_first=True))
    closed_bottom = [i for i in range(n) if i not in set(inlet_cols)]
    cells = torch.tensor([(n - 1) * n + i for i in exit_cols] + closed_bottom, dtype=torch.long)
    signs = torch.tensor([1.0] * len(exit_cols) + [-1.0] * len(closed_bottom), dtype=torch.float64)
    base = _PoissonSolver(vx, lx, vy, ly, cells, torch.zeros(0, n, n, dtype=torch.float64), torch.zeros(0, 0))
    units = torch.zeros(len(cells), n * n, dtype=torch.float64)
    units[torch.arange(len(cells)), cells] = 1.0
    w = base.solve0(units.reshape(-1, n, n))
    capacitance = torch.diag(1 / signs) + w.reshape(len(cells), n * n)[:, cells].T
    dev = torch.device(device)
    vx, lx, vy, ly, w = (a.to(dtype=dtype, device=dev) for a in (vx, lx, vy, ly, w))
    return _PoissonSolver(vx, lx, vy, ly, cells.to(dev), w, torch.linalg.inv(capacitance).to(dtype=dtype, device=dev))


def _open_columns(box: SmokeBox, like: Tensor) -> tuple[Tensor, Tensor]:
    """``(n,)`` 0/1 masks (dtype and device of ``like``) of the open top and bottom faces."""
    top = box.exit_mask(like.device).sum(0).clamp(max=1).to(like.dtype)
    return top, box.inlet_mask(like.device).to(like.dtype)


def wall_conditions(state: SmokeState, box: SmokeBox) -> SmokeState:
    """Zero normal velocity on the walls: ``u`` on the left/right walls, ``v`` on the top and bottom walls away
    from the exits and the inlet."""
    u, v = state.u.clone(), state.v.clone()
    u[..., 0] = 0.0
    u[..., -1] = 0.0
    top, bottom = _open_columns(box, v)
    v[:, 0] = v[:, 0] * bottom
    v[:, -1] = v[:, -1] * top
    return SmokeState(state.rho, u, v)


def flux_residual(state: SmokeState) -> Tensor:
    """``G^T u = -h div u``: ``(B, n, n)``, the net inflow of each cell (walls must carry zero normal velocity)."""
    u, v = state.u, state.v
    return u[..., :-1] - u[..., 1:] + v[:, :-1] - v[:, 1:]


def divergence(state: SmokeState, box: SmokeBox) -> Tensor:
    """Discrete divergence ``D u`` (``s^-1``) of every cell: ``(B, n, n)``."""
    return -flux_residual(state) / box.h


def project(state: SmokeState, box: SmokeBox) -> SmokeState:
    """Pressure projection ``u <- u - G p``, ``G^T G p = G^T u``: the divergence-free part of ``u`` (walls,
    exits and inlet as in the module docstring)."""
    state = wall_conditions(state, box)
    n, dtype = box.n, state.u.dtype
    exit_cols = tuple(i for c in box.exit_columns() for i in c)
    inlet_cols = tuple(box.inlet_columns())
    p = _poisson_solver(n, exit_cols, inlet_cols, dtype, str(state.u.device))(flux_residual(state))
    u, v = state.u.clone(), state.v.clone()
    u[..., 1:-1] -= p[..., 1:] - p[..., :-1]
    v[:, 1:-1] -= p[:, 1:] - p[:, :-1]
    top, bottom = _open_columns(box, v)
    v[:, -1] += top * p[:, -1]  # exit faces: G p = 0 - p(top cell)
    v[:, 0] -= bottom * p[:, 0]  # inlet faces: G p = p(bottom cell) - 0
    return SmokeState(state.rho, u, v)


def _bilinear(field: Tensor, ci: Tensor, cj: Tensor) -> Tensor:
    """Bilinear interpolation of ``field (B, H, W)`` at continuous (column, row) indices ``ci, cj (B, ...)``,
    clamped to the grid (constant extrapolation)."""
    b, hh, ww = field.shape
    ci, cj = ci.clamp(0, ww - 1), cj.clamp(0, hh - 1)
    i0 = ci.floor().long().clamp(max=ww - 2)
    j0 = cj.floor().long().clamp(max=hh - 2)
    wi, wj = ci - i0, cj - j0
    flat = field.reshape(b, -1)

    def at(j: Tensor, i: Tensor) -> Tensor:
        return flat.gather(1, (j * ww + i).reshape(b, -1)).reshape(ci.shape)

    return (1 - wj) * ((1 - wi) * at(j0, i0) + wi * at(j0, i0 + 1)) + wj * (
        (1 - wi) * at(j0 + 1, i0) + wi * at(j0 + 1, i0 + 1)
    )


def _velocity_at(state: SmokeState, x: Tensor, y: Tensor, h: float) -> tuple[Tensor, Tensor]:
    """Velocity at points ``(x, y)`` (m): ``u`` lives at ``(i h, (j + 1/2) h)``, ``v`` at ``((i + 1/2) h, j h)``."""
    return _bilinear(state.u, x / h, y / h - 0.5), _bilinear(state.v, x / h - 0.5, y / h)


def advect_velocity(state: SmokeState, box: SmokeBox) -> SmokeState:
    """Backward semi-Lagrangian step of both staggered components: ``u_new(x) = u(x - dt u(x))``."""
    n, h, dt = box.n, box.h, box.dt
    b = state.u.shape[0]
    dtype, device = state.u.dtype, state.u.device
    rows, cols = torch.arange(n + 1, dtype=dtype, device=device), torch.arange(n + 1, dtype=dtype, device=device)
    ju, iu = torch.meshgrid(rows[:n], cols, indexing="ij")
    xu, yu = (iu * h).expand(b, -1, -1), ((ju + 0.5) * h).expand(b, -1, -1)
    vx, vy = _velocity_at(state, xu, yu, h)
    u_new = _bilinear(state.u, (xu - dt * vx) / h, (yu - dt * vy) / h - 0.5)
    jv, iv = torch.meshgrid(rows, cols[:n], indexing="ij")
    xv, yv = ((iv + 0.5) * h).expand(b, -1, -1), (jv * h).expand(b, -1, -1)
    vx, vy = _velocity_at(state, xv, yv, h)
    v_new = _bilinear(state.v, (xv - dt * vx) / h - 0.5, (yv - dt * vy) / h)
    return SmokeState(state.rho, u_new, v_new)


def advect_density(state: SmokeState, box: SmokeBox) -> tuple[Tensor, Tensor]:
    """Forward, mass-conserving semi-Lagrangian step of ``rho``; returns ``(rho_new, outflow (B, K + 1))``.

    Each cell's mass ``rho h^2`` moves to ``x + dt u(x)`` (``u`` at the cell centre) and is split bilinearly
    among the four nearest cell centres. A share landing on the row above the box leaves through the exit of
    its column (``outflow[:, k]``), one landing below the box leaves through the inlet (``outflow[:, K]``);
    where the boundary is a wall, the share stays in the adjacent cell, as do shares beyond the side walls.
    """
    n, h, dt = box.n, box.h, box.dt
    rho = state.rho
    b = rho.shape[0]
    vel = state.centred_velocity()
    idx = torch.arange(n, dtype=rho.dtype, device=rho.device)
    ci = (idx.view(1, 1, n) + dt * vel[:, 0] / h).clamp(0, n - 1)
    cj = (idx.view(1, n, 1) + dt * vel[:, 1] / h).clamp(-1, n) + 1  # canvas rows: 0 below the box, n + 1 above
    i0, j0 = ci.floor().long().clamp(max=n - 2), cj.floor().long().clamp(max=n)
    wi, wj = ci - i0, cj - j0
    canvas = rho.new_zeros(b, (n + 2) * n)
    for dj, wj_ in ((0, 1 - wj), (1, wj)):
        for di, wi_ in ((0, 1 - wi), (1, wi)):
            canvas.scatter_add_(1, ((j0 + dj) * n + i0 + di).reshape(b, -1), (rho * wj_ * wi_).reshape(b, -1))
    canvas = canvas.reshape(b, n + 2, n)
    below, above = canvas[:, 0], canvas[:, n + 1]
    top, bottom = _open_columns(box, rho)
    exits = box.exit_mask(rho.device).to(rho.dtype)  # (K, n)
    outflow = torch.cat([above @ exits.T, (below * bottom).sum(-1, keepdim=True)], dim=-1) * h * h
    new = canvas[:, 1 : n + 1].clone()
    new[:, n - 1] += above * (1 - top)  # a wall keeps its share in the adjacent cell
    new[:, 0] += below * (1 - bottom)
    return new, outflow


def body_force(state: SmokeState, force: Tensor, box: SmokeBox) -> SmokeState:
    """``u <- exp(-k dt) u + dt (f + b rho e_y)``: friction, then the cell-centred ``force (B, 2, n, n)``
    averaged onto the interior faces
    (one-sided on the open faces of exits and inlet)."""
    dt = box.dt
    fx, fy = force[:, 0], force[:, 1] + box.buoyancy * state.rho
    decay = float(torch.exp(torch.tensor(-box.damping * dt)))
    u, v = state.u * decay, state.v * decay
    u[..., 1:-1] += dt * (fx[..., 1:] + fx[..., :-1]) / 2
    v[:, 1:-1] += dt * (fy[:, 1:] + fy[:, :-1]) / 2
    top, bottom = _open_columns(box, v)
    v[:, -1] += dt * fy[:, -1] * top
    v[:, 0] += dt * fy[:, 0] * bottom
    return SmokeState(state.rho, u, v)


def step(state: SmokeState, force: Tensor, box: SmokeBox) -> tuple[SmokeState, Tensor]:
    """One solver step (module docstring, 1-4); returns the new state and the mass out of each exit ``(B, K)``."""
    state = body_force(state, force, box)
    state = advect_velocity(wall_conditions(state, box), box)
    state = project(state, box)
    rho, outflow = advect_density(state, box)
    return SmokeState(rho, state.u, state.v), outflow


@dataclass
class SmokeRun:
    """A solved batch. ``density (B, T, n, n)``, ``velocity (B, T, 2, n, n)`` (cell-centred ``vx, vy``) at the
    frames; ``outflow (B, nt, K + 1)`` the mass out of each exit (and, last, back out of the inlet) during each
    frame interval; ``released (B,)`` the
    initial mass ``sum(rho0) h^2``."""

    density: Tensor
    velocity: Tensor
    outflow: Tensor
    released: Tensor

    def exit_fractions(self) -> Tensor:
        """``(B, K + 1)``: the share of the released smoke that left through each exit (and the inlet) by the
        last frame."""
        return self.outflow.sum(1) / self.released.clamp_min(1e-30).unsqueeze(-1)

    def remaining(self, box: SmokeBox) -> Tensor:
        """``(B,)``: the mass still in the box at the last frame."""
        return self.density[:, -1].sum((-1, -2)) * box.h**2


def simulate_smoke(rho0: Tensor, forcing: Tensor, box: SmokeBox) -> SmokeRun:
    """Solve from smoke ``rho0 (B, n, n)`` in still fluid with ``forcing (B, nt, 2, n, n)`` (cell-centred force
    per frame interval, m s^-2); dtype and device of ``rho0``."""
    b, n = rho0.shape[0], box.n
    if rho0.shape != (b, n, n) or not rho0.is_floating_point():
        raise ValueError(f"rho0 must be a floating-point (B, {n}, {n}) tensor, got {tuple(rho0.shape)} {rho0.dtype}")
    if forcing.shape != (b, box.nt, 2, n, n):
        raise ValueError(f"forcing must be (B, nt, 2, n, n) = {(b, box.nt, 2, n, n)}, got {tuple(forcing.shape)}")
    if not (torch.isfinite(rho0).all() and torch.isfinite(forcing).all()):
        raise ValueError("rho0 and forcing must be finite")
    forcing = forcing.to(rho0)
    state = SmokeState(rho0, rho0.new_zeros(b, n, n + 1), rho0.new_zeros(b, n + 1, n))
    density, velocity, outflow = [rho0], [state.centred_velocity()], []
    for k in range(box.nt):
        out = rho0.new_zeros(b, len(box.exits) + 1)
        for _ in range(box.substeps):
            state, o = step(state, forcing[:, k], box)
            out = out + o
        density.append(state.rho)
        velocity.append(state.centred_velocity())
        outflow.append(out)
    released = rho0.sum((-1, -2)) * box.h**2
    return SmokeRun(torch.stack(density, 1), torch.stack(velocity, 1), torch.stack(outflow, 1), released)
