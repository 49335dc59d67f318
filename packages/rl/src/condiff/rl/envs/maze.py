"""PointMaze geometry (cells, shortest paths) and the D4RL-maze2d-style waypoint controller."""

from __future__ import annotations

from collections import deque

import numpy as np

# gymnasium_robotics.envs.maze.maps (1 = wall), copied as data so geometry needs no simulator.
MAZE_MAPS: dict[str, list[list[int]]] = {
    "umaze": [[1, 1, 1, 1, 1], [1, 0, 0, 0, 1], [1, 1, 1, 0, 1], [1, 0, 0, 0, 1], [1, 1, 1, 1, 1]],
    "medium": [
        [1, 1, 1, 1, 1, 1, 1, 1],
        [1, 0, 0, 1, 1, 0, 0, 1],
        [1, 0, 0, 1, 0, 0, 0, 1],
        [1, 1, 0, 0, 0, 1, 1, 1],
        [1, 0, 0, 1, 0, 0, 0, 1],
        [1, 0, 1, 0, 0, 1, 0, 1],
        [1, 0, 0, 0, 1, 0, 0, 1],
        [1, 1, 1, 1, 1, 1, 1, 1],
    ],
}


class MazeGeometry:
    """Cell <-> position maps and breadth-first shortest cell paths of a PointMaze map (cell size 1).

    Position of cell ``(i, j)``: ``x = j - (W - 1) / 2``, ``y = (H - 1) / 2 - i`` (gymnasium-robotics' convention).
    """

    def __init__(self, maze: str) -> None:
        if maze not in MAZE_MAPS:
            raise ValueError(f"unknown maze {maze!r}; expected one of {sorted(MAZE_MAPS)}")
        self.name = maze
        self.map = np.array(MAZE_MAPS[maze], dtype=np.int64)
        self.height, self.width = self.map.shape
        self.free_cells: list[tuple[int, int]] = [
            (int(i), int(j)) for i, j in zip(*np.nonzero(self.map == 0), strict=False)
        ]

    def cell_to_xy(self, cell: tuple[int, int]) -> np.ndarray:
        i, j = cell
        return np.array([j - (self.width - 1) / 2, (self.height - 1) / 2 - i], dtype=np.float64)

    def xy_to_cell(self, xy: np.ndarray) -> tuple[int, int]:
        j = int(np.clip(np.floor(xy[0] + self.width / 2), 0, self.width - 1))
        i = int(np.clip(np.floor(self.height / 2 - xy[1]), 0, self.height - 1))
        return i, j

    def is_free(self, xy: np.ndarray) -> bool:
        i, j = self.xy_to_cell(xy)
        return bool(self.map[i, j] == 0)

    def shortest_path(self, start: tuple[int, int], goal: tuple[int, int]) -> list[tuple[int, int]]:
        """Cells from ``start`` to ``goal`` inclusive (4-connected breadth-first search)."""
        prev: dict[tuple[int, int], tuple[int, int] | None] = {start: None}
        queue = deque([start])
        while queue:
            c = queue.popleft()
            if c == goal:
                break
            for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                n = (c[0] + di, c[1] + dj)
                if n not in prev and 0 <= n[0] < self.height and 0 <= n[1] < self.width and self.map[n] == 0:
                    prev[n] = c
                    queue.append(n)
        if goal not in prev:
            raise ValueError(f"maze {self.name}: no path from cell {start} to {goal}")
        path = [goal]
        while (p := prev[path[-1]]) is not None:
            path.append(p)
        return path[::-1]

    def _tables(self) -> tuple[np.ndarray, np.ndarray]:
        """All-pairs cell hops ``(C, C)`` and the next cell on the way ``(C, C)`` (indices of free cells)."""
        if not hasattr(self, "_hops"):
            index = {c: k for k, c in enumerate(self.free_cells)}
            n = len(self.free_cells)
            hops, nxt = np.zeros((n, n), dtype=np.int64), np.zeros((n, n), dtype=np.int64)
            for a, ca in enumerate(self.free_cells):
                for b, cb in enumerate(self.free_cells):
                    path = self.shortest_path(ca, cb)
                    hops[a, b] = len(path) - 1
                    nxt[a, b] = index[path[1]] if len(path) > 1 else b
            self._hops, self._next = hops, nxt
        return self._hops, self._next

    def _cell_index(self, xy: np.ndarray) -> np.ndarray:
        j = np.clip(np.floor(xy[:, 0] + self.width / 2), 0, self.width - 1).astype(np.int64)
        i = np.clip(np.floor(self.height / 2 - xy[:, 1]), 0, self.height - 1).astype(np.int64)
        lookup = np.full(self.map.shape, -1, dtype=np.int64)
        for k, c in enumerate(self.free_cells):
            lookup[c] = k
        idx = lookup[i, j]
        if (idx < 0).any():
            # a position numerically on a wall cell (contact): use the nearest free cell centre
            centres = np.stack([self.cell_to_xy(c) for c in self.free_cells])
            bad = np.nonzero(idx < 0)[0]
            idx[bad] = np.argmin(((xy[bad, None] - centres[None]) ** 2).sum(-1), axis=1)
        return idx

    def geodesic_distance(self, pos: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """Length of the way from ``pos`` to ``goal`` through the maze: ``pos`` to the next cell centre,
        cell hops, then that last centre to ``goal`` (straight ``|pos - goal|`` within one cell).

        ``pos, goal: (N, 2)`` -> ``(N,)``.
        """
        pos, goal = np.atleast_2d(pos).astype(np.float64), np.atleast_2d(goal).astype(np.float64)
        hops, nxt = self._tables()
        a, b = self._cell_index(pos), self._cell_index(goal)
        centres = np.stack([self.cell_to_xy(c) for c in self.free_cells])
        h = hops[a, b]
        via = (
            np.linalg.norm(pos - centres[nxt[a, b]], axis=1)
            + np.maximum(h - 1, 0)
            + np.linalg.norm(centres[b] - goal, axis=1)
        )
        return np.where(h == 0, np.linalg.norm(pos - goal, axis=1), via)


class WaypointController:
    """PD controller that follows the shortest cell path to a goal, as D4RL's maze2d data generator.

    ``a = clip(k_p (w - p) - k_d v + sigma * n, -1, 1)`` with ``w`` the next waypoint (centre of the next
    cell on the breadth-first path, the goal itself in the last cell), ``p, v`` position and velocity
    and ``n ~ N(0, I)`` exploration noise (Fu et al. 2020, D4RL, maze2d).
    """

    def __init__(self, geometry: MazeGeometry, p_gain: float = 10.0, d_gain: float = 1.0, noise: float = 0.3) -> None:
        self.geometry = geometry
        self.p_gain = p_gain
        self.d_gain = d_gain
        self.noise = noise

    def waypoint(self, pos: np.ndarray, goal: np.ndarray) -> np.ndarray:
        here, there = self.geometry.xy_to_cell(pos), self.geometry.xy_to_cell(goal)
        path = self.geometry.shortest_path(here, there)
        return goal if len(path) <= 1 else self.geometry.cell_to_xy(path[1])

    def __call__(self, obs: np.ndarray, goal: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        pos, vel = obs[:2], obs[2:4]
        a = self.p_gain * (self.waypoint(pos, goal) - pos) - self.d_gain * vel
        a = a + self.noise * rng.standard_normal(2)
        return np.clip(a, -1.0, 1.0).astype(np.float32)
