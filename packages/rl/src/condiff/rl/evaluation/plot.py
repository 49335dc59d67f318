"""Trajectory pictures drawn with Pillow: maze walls, paths, starts and goals; or a state curve for locomotion."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from condiff.rl.envs.maze import MazeGeometry

COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]


def maze_trajectory_image(
    geometry: MazeGeometry, trajectories: list[np.ndarray], goals: np.ndarray, cell_px: int = 64
) -> Image.Image:
    """Walls in grey, each trajectory ``(T, >=2)`` a coloured line from a dot (start) to a square (goal)."""
    img = Image.new("RGB", (geometry.width * cell_px, geometry.height * cell_px), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    for i in range(geometry.height):
        for j in range(geometry.width):
            if geometry.map[i, j]:
                draw.rectangle(
                    [j * cell_px, i * cell_px, (j + 1) * cell_px - 1, (i + 1) * cell_px - 1], fill=(90, 90, 90)
                )

    def px(xy: np.ndarray) -> tuple[float, float]:
        return ((xy[0] + geometry.width / 2) * cell_px, (geometry.height / 2 - xy[1]) * cell_px)

    for k, (traj, goal) in enumerate(zip(trajectories, goals, strict=True)):
        c = COLORS[k % len(COLORS)]
        draw.line([px(p) for p in traj[:, :2]], fill=c, width=2)
        x, y = px(traj[0, :2])
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=c)
        gx, gy = px(goal)
        draw.rectangle([gx - 5, gy - 5, gx + 5, gy + 5], outline=c, width=2)
    return img


def state_curve_image(trajectories: list[np.ndarray], dim: int = 0, size: tuple[int, int] = (640, 320)) -> Image.Image:
    """State dimension ``dim`` against time, one line per episode (e.g. the torso height of Hopper)."""
    img = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(img)
    values = np.concatenate([t[:, dim] for t in trajectories])
    lo, hi = float(values.min()), float(values.max()) + 1e-6
    longest = max(len(t) for t in trajectories)
    for k, t in enumerate(trajectories):
        pts = [(5 + (size[0] - 10) * i / max(longest - 1, 1), size[1] - 5 - (size[1] - 10) * (v - lo) / (hi - lo))
               for i, v in enumerate(t[:, dim])]  # fmt: skip
        if len(pts) > 1:
            draw.line(pts, fill=COLORS[k % len(COLORS)], width=1)
    return img


def save_image(img: Image.Image, path: str | os.PathLike[str]) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out)
    return out
