"""``condiff-rl-data``: generate a built-in offline data set and write it as a D4RL HDF5 file.

condiff-rl-data hopper --num-steps 200000 --out data/hopper-ars.hdf5
condiff-rl-data pointmaze_umaze --num-steps 1000000 --out data/maze2d-umaze.hdf5
"""

from __future__ import annotations

import argparse
import time

from condiff.rl.data.d4rl import write_d4rl_hdf5
from condiff.rl.envs.make import ENVIRONMENTS, env_spec


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="condiff-rl-data", description=__doc__.split("\n")[0])
    p.add_argument("env", choices=sorted(ENVIRONMENTS))
    p.add_argument("--num-steps", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="the HDF5 file to write")
    p.add_argument("--ars-iterations", type=int, default=20, help="behaviour-policy training (locomotion)")
    args = p.parse_args(argv)
    start = time.perf_counter()
    if env_spec(args.env).goal_conditioned:
        from condiff.rl.data.maze2d import generate_maze2d

        ds = generate_maze2d(args.env, args.num_steps, seed=args.seed)
    else:
        from condiff.rl.data.locomotion import generate_locomotion

        ds = generate_locomotion(args.env, args.num_steps, seed=args.seed, iterations=args.ars_iterations)
    path = write_d4rl_hdf5(ds, args.out)
    eps = ds.episodes()
    ret = sum(float(ds.rewards[e].sum()) for e in eps) / len(eps)
    print(f"wrote {path}: {len(ds)} transitions, {len(eps)} episodes, mean episode return {ret:.1f} "
          f"({time.perf_counter() - start:.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
