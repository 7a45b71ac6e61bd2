"""Write the compatibility fixture of `tests/wgan/test_compat.py`: run folders in the format of commit d999256.

Run once, from the repository root, by the code whose format the fixture records (it was written by commit
d999256, before the config's fields moved into algorithm options)::

    PYTHONPATH=. python3 tests/wgan/compat/make_compat_fixture.py

For each run below it trains a small network, stops at step ``K`` of a run planned for ``K + M`` steps, keeps that
run folder's ``config.json`` and ``checkpoint.npz`` in ``tests/wgan/compat/<name>/``, then trains on to ``K + M``
in the same process and stores the parameters of every network there in ``params_final.npz``. The test loads the
folder with today's code, resumes it to ``K + M`` and checks the parameters bit for bit; it also trains the same
run afresh from ``config.json`` and checks the same parameters.

The runs set the fields that moved (``gp_lambda``, ``penalty``, ``gp_eps``, ``clip``, ``clip_placement``, and
DRAGAN's mix of a field and an option), a preset, a decaying learning rate with an extension, the official critic
schedule, an averaged generator and a held-out batch.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

import minigrad
from wgan import TrainConfig, Trainer

HERE = Path(__file__).resolve().parent
K, M = 6, 4

RUNS = {
    # the penalty's fields at other values than the defaults, with a decaying rate, EMA and a held-out batch
    "wgan-gp": dict(algorithm="wgan-gp", preset="toy", gp_lambda=0.5, penalty="one-sided", gp_eps=1e-8,
                    lr_decay="linear", ema_decay=0.9, heldout_size=32, heldout_every=3),
    # clipping before the step with the official schedule (100 critic iterations at the first steps)
    "wgan-clip": dict(algorithm="wgan-clip", preset="toy", clip=0.05, clip_placement="before",
                      critic_schedule="official", rmsprop_alpha=0.95),
    # a field (gp_lambda) and an option (dragan_c) of one algorithm; extended once with a named schedule
    "dragan-extended": dict(algorithm="dragan", preset="toy", gp_lambda=3.0, gp_eps=1e-10,
                            algorithm_options={"dragan_c": 0.25}, lr_decay="linear"),
}
SMALL = dict(dataset="8gaussians", width=16, depth=2, batch_size=32, log_every=1, eval_every=0, checkpoint_every=0)


def _parameters(trainer: Trainer) -> dict[str, np.ndarray]:
    nets = {"G": trainer.generator, "D": trainer.critic}
    if trainer.ema is not None:
        nets["G_ema"] = trainer.ema.module
    return {f"{net}:{key}": value.numpy() for net, module in nets.items()
            for key, value in module.state_dict().items()}


def make(name: str, fields: dict, scratch: Path) -> None:
    run = scratch / name
    if name == "dragan-extended":  # planned for K - 2 steps, then extended to K + M at step K - 2
        Trainer(TrainConfig(**SMALL, **fields, steps=K - 2, seed=2, out_dir=str(run))).fit()
        trainer = Trainer.resume(run, steps=K + M, extend_lr="constant")
        trainer.fit(steps=K)
    else:
        trainer = Trainer(TrainConfig(**SMALL, **fields, steps=K + M, seed=1, out_dir=str(run)))
        trainer.fit(steps=K)
    target = HERE / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for file in ("config.json", "checkpoint.npz"):
        shutil.copy(run / file, target / file)
    trainer.fit()  # on to K + M in the same process: the uninterrupted run
    assert trainer.step == K + M
    minigrad.save(_parameters(trainer), target / "params_final.npz")
    print(f"{name}: checkpoint at step {K}, parameters at step {K + M}", file=sys.stderr)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        for name, fields in RUNS.items():
            make(name, fields, Path(scratch))
