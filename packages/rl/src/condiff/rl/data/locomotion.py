"""Built-in MuJoCo locomotion data: a linear behaviour policy trained by Augmented Random Search, then rolled out.

ARS V2 (Mania, Guy & Recht 2018, Algorithm 2): ``pi(s) = clip(M (s - mu) / sigma)``; each iteration
perturbs ``M`` in ``n`` random directions ``+- nu delta``, keeps the ``b`` best and steps
``M += alpha / (b sigma_R) sum (R+ - R-) delta``, with the running state statistics ``mu, sigma``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from condiff.rl.data.d4rl import load_d4rl_hdf5, write_d4rl_hdf5
from condiff.rl.data.dataset import OfflineDataset
from condiff.rl.envs.make import env_spec, flat_observation, make_env


@dataclass
class LinearPolicy:
    """``a = clip(M (s - mu) / sigma, -1, 1)`` with running state statistics."""

    weights: np.ndarray
    count: float = 1e-4
    mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    var: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        d = self.weights.shape[1]
        if self.mean.size == 0:
            self.mean, self.var = np.zeros(d), np.ones(d)

    def act(self, s: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = self.weights if weights is None else weights
        return np.clip(w @ ((s - self.mean) / np.sqrt(self.var + 1e-8)), -1.0, 1.0)

    def update_stats(self, states: np.ndarray) -> None:
        n = len(states)
        total = self.count + n
        delta = states.mean(0) - self.mean
        self.var = (self.var * self.count + states.var(0) * n + delta**2 * self.count * n / total) / total
        self.mean = self.mean + delta * n / total
        self.count = total


def _episode(
    env_name: str, policy: LinearPolicy, weights: np.ndarray, seed: int, max_steps: int
) -> tuple[float, np.ndarray]:
    env = make_env(env_name, max_episode_steps=max_steps)
    obs, _ = env.reset(seed=seed)
    total, states = 0.0, []
    while True:
        s = flat_observation(obs)
        states.append(s)
        obs, r, term, trunc, _ = env.step(policy.act(s, weights))
        total += float(r)
        if term or trunc:
            break
    env.close()
    return total, np.stack(states)


def train_ars(
    env_name: str,
    iterations: int = 20,
    directions: int = 8,
    top: int = 4,
    step_size: float = 0.02,
    noise: float = 0.03,
    episode_steps: int = 400,
    seed: int = 0,
) -> tuple[LinearPolicy, list[float]]:
    """Train a linear behaviour policy with ARS V2-t; returns it and the mean return of each iteration."""
    env = make_env(env_name)
    obs_dim = int(np.prod(env.observation_space.shape or (0,)))
    act_dim = int(np.prod(env.action_space.shape or (0,)))
    env.close()
    rng = np.random.default_rng(seed)
    policy = LinearPolicy(np.zeros((act_dim, obs_dim)))
    history = []
    for it in range(iterations):
        deltas = rng.standard_normal((directions, act_dim, obs_dim))
        results = []
        for k, d in enumerate(deltas):
            ep_seed = seed * 100_000 + it * 1000 + k
            rp, sp = _episode(env_name, policy, policy.weights + noise * d, ep_seed, episode_steps)
            rm, sm = _episode(env_name, policy, policy.weights - noise * d, ep_seed, episode_steps)
            policy.update_stats(np.concatenate([sp, sm]))
            results.append((rp, rm))
        r = np.asarray(results)
        best = np.argsort(-r.max(1))[:top]
        sigma = r[best].std() + 1e-8
        policy.weights = policy.weights + step_size / (top * sigma) * np.einsum(
            "k,kij->ij", r[best, 0] - r[best, 1], deltas[best]
        )
        history.append(float(r.mean()))
    return policy, history


def generate_locomotion(
    env_name: str, num_steps: int, seed: int = 0, action_noise: float = 0.1, iterations: int = 20
) -> OfflineDataset:
    """Train the ARS behaviour policy, then roll it out with Gaussian action noise ``N(0, action_noise^2)``
    for ``num_steps`` transitions (a D4RL "medium"-like data set of a partly trained policy)."""
    spec = env_spec(env_name)
    if spec.goal_conditioned:
        raise ValueError(f"generate_locomotion: {env_name!r} is a maze; use generate_maze2d")
    policy, _ = train_ars(env_name, iterations=iterations, seed=seed)
    rng = np.random.default_rng(seed + 1)
    env = make_env(env_name)
    cols: dict[str, list[Any]] = {k: [] for k in ("obs", "act", "rew", "term", "time")}
    episode = 0
    while len(cols["obs"]) < num_steps:
        obs, _ = env.reset(seed=seed * 1_000_000 + episode)
        episode += 1
        while len(cols["obs"]) < num_steps:
            s = flat_observation(obs)
            a = np.clip(policy.act(s) + action_noise * rng.standard_normal(policy.weights.shape[0]), -1, 1)
            obs, r, term, trunc, _ = env.step(a.astype(np.float32))
            cols["obs"].append(s)
            cols["act"].append(a.astype(np.float32))
            cols["rew"].append(np.float32(r))
            cols["term"].append(np.bool_(term))
            cols["time"].append(np.bool_(trunc or len(cols["obs"]) == num_steps))
            if term or trunc:
                break
    env.close()
    return OfflineDataset(
        observations=np.stack(cols["obs"]).astype(np.float32),
        actions=np.stack(cols["act"]),
        rewards=np.asarray(cols["rew"], dtype=np.float32),
        terminals=np.asarray(cols["term"], dtype=bool),
        timeouts=np.asarray(cols["time"], dtype=bool),
    )


def cached_locomotion(env_name: str, num_steps: int, seed: int, cache_dir: str | os.PathLike[str]) -> OfflineDataset:
    """:func:`generate_locomotion` once, then read from ``<cache_dir>/rl/<env>-ars-<steps>-seed<seed>.hdf5``."""
    path = Path(cache_dir) / "rl" / f"{env_name}-ars-{num_steps}-seed{seed}.hdf5"
    if path.is_file():
        return load_d4rl_hdf5(path)
    ds = generate_locomotion(env_name, num_steps, seed=seed)
    write_d4rl_hdf5(ds, path)
    return ds
