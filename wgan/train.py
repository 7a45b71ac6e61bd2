"""`Trainer`: the training step of every algorithm, and `Trainer.fit`, the loop that runs it with callbacks.

One generator iteration (a "step") is the papers' Algorithm 1 body, with the algorithm's hooks
(`wgan.algorithms.base.Algorithm`) at the points where the algorithms differ::

    for t in 1..n_critic:                       (100 at the official schedule's steps)
        x ~ P_r, z ~ p(z), noise = algorithm.critic_noise(rng, x.shape)   (e.g. eps ~ U[0, 1] per sample)
        algorithm.before_critic_step(D)         (e.g. clipping before the step, the official WGAN code)
        x~ = G(z)                               (no graph: G is constant here)
        L_D = algorithm.critic_objective(D, x, x~, noise)      (loss [+ weight * regulariser])
        D <- optimizer_D(grad L_D)
        algorithm.after_critic_step(D)          (e.g. clipping after the step, the paper)
    z ~ p(z);  G <- optimizer_G(grad algorithm.generator_objective(D, G(z)))

Gradients are taken with `minigrad.grad` restricted to the parameters being updated, so no work
is spent on the other network's weights or on the inputs. `fit` runs steps and calls the callbacks'
hooks (`wgan.callbacks`): evaluation, the held-out estimate, figures and snapshots, checkpoints and the
metrics files, the progress bar and TensorBoard are callbacks, each in its own module, as a user's are.
The iteration is captured once and replayed (`wgan.capture`: a tape of NumPy calls on the CPU, a CUDA graph on a
device), bit for bit what the eager steps do.

Randomness: data, z and the algorithm's noise come from ``trainer.rng`` (a numpy Generator seeded
with ``config.seed``); initial weights from ``minigrad.manual_seed(config.seed)``. Evaluation uses
its own generator seeded from (seed, step), so evaluating never changes the training stream
and ``resume`` reproduces an uninterrupted run exactly on the CPU.
"""
from __future__ import annotations

import logging
import math
import signal
import sys
import threading
import time
from pathlib import Path
from collections.abc import Iterable

import numpy as np

import minigrad
from minigrad import Tensor, capture, optim
from wgan import extend, run_folder
from wgan.algorithms.base import TERM_NAMES, NoiseStream, Objective
from wgan.callbacks import standard_callbacks
from wgan.capture import capture_step
from wgan.device import DeviceNoise, DeviceStats, as_device_tensor, device_sampler
from wgan.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from wgan.config import ConfigError, ResolvedConfig, TrainConfig
from wgan.ema import ExponentialMovingAverage
from wgan.models import build_models
from wgan.optimizers import make_optimizer
from wgan.run_folder import read_metrics


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the message names the step and the term."""


def resolve_dataset(spec, config: ResolvedConfig):
    """A Dataset from a Dataset, a spec string, an array or a sampler (see `wgan.data.make_dataset`)."""
    from wgan import data

    if isinstance(spec, data.Dataset):
        return spec
    return data.make_dataset(config.dataset if spec is None else spec, **config.dataset_options)


class Trainer:
    """Trains a generator and a critic as `config` says.

    ``config``: a `TrainConfig` (resolved here, for the dataset's sample shape) or a `ResolvedConfig`.
    ``dataset`` overrides ``config.dataset``: a Dataset (e.g. `wgan.data.from_array(points)` or
    `wgan.data.from_sampler(fn, sample_shape)`), a spec string, or an array of samples.
    ``callbacks``: objects with any of the hooks of `wgan.callbacks` (``on_fit_start``, ``on_measure``,
    ``on_eval``, ``on_log``, ``on_step``, ``on_fit_stop``, ``on_fit_end``); a plain function is called as
    ``on_step``. ``trainer.callbacks`` holds the standard ones (`wgan.callbacks.standard_callbacks`) and then
    these, in the order their hooks run. Attributes: ``config`` (resolved), ``dataset`` (without the held-out
    split, if any), ``algorithm`` (the config's `wgan.algorithms.Algorithm`), ``generator`` (the
    trained weights), ``ema`` (`wgan.ema.ExponentialMovingAverage` of them, with ``ema_decay``; else
    None), ``critic``, ``opt_g``, ``opt_d``, ``step`` (completed generator iterations), ``rng``,
    ``heldout`` and ``heldout_z`` (the fixed real batch and noise of ``heldout_size``; else None),
    ``history`` (the logged rows), ``target_step`` (the step the running ``fit`` trains to).

    ``graph``: capture one iteration and replay it every step (`wgan.capture`, `minigrad.graphed`: after two
    eager warm-up steps, a tape of NumPy calls on the CPU, a CUDA graph on a device), bit for bit what the eager
    steps do. None (the default) means on wherever the configuration allows; where it does not (the official
    critic schedule, or a step the CPU capture refuses), the run is eager and one line names the reason: a log
    line by default, a RuntimeWarning when ``graph=True`` was asked for. ``cuda_graph`` is another name for it.
    ``trainer.graph`` (and ``trainer.cuda_graph``) says whether it is on.
    """

    def __init__(self, config: TrainConfig | ResolvedConfig, dataset=None, callbacks: Iterable = (),
                 progress: bool = False, graph: bool | None = None, cuda_graph: bool | None = None):
        if not isinstance(config, (TrainConfig, ResolvedConfig)):
            raise TypeError(f"Trainer: config must be a TrainConfig, got {type(config).__name__}")
        if dataset is not None:
            name = dataset if isinstance(dataset, str) else getattr(dataset, "name", None) or (
                "array" if isinstance(dataset, np.ndarray) else "sampler")
            config = TrainConfig.from_dict(dict(config.to_dict(), dataset=str(name)))
        probe = config if isinstance(config, ResolvedConfig) else config.resolve()
        self.dataset = resolve_dataset(dataset, probe)
        self.config: ResolvedConfig = probe if isinstance(config, ResolvedConfig) else \
            config.resolve(sample_ndim=len(self.dataset.sample_shape))
        cfg = self.config
        self.heldout: np.ndarray | None = None
        if cfg.heldout_size:
            self.dataset, self.heldout = self.dataset.heldout_split(cfg.heldout_size,
                                                                    np.random.default_rng([cfg.seed, 5]))
        self.device = minigrad.backend.normalize_device(cfg.device)
        if self.device == "cuda":
            try:
                minigrad.backend.xp_for("cuda")
            except RuntimeError as exc:  # no CuPy or no GPU: the user's device choice, not a bug
                raise ConfigError(f"device: {exc}") from None
        self.callbacks = [*standard_callbacks(progress), *callbacks]
        self.progress = progress
        minigrad.manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self.algorithm = cfg.algorithm_class()(cfg)
        self.generator, self.critic = build_models(cfg, self.dataset.sample_shape, self.algorithm)
        self.generator.to(self.device)
        self.critic.to(self.device)
        self.ema = ExponentialMovingAverage(self.generator, cfg.ema_decay) if cfg.ema_decay > 0 else None
        if self.heldout is not None:
            self.heldout_z = self.sample_noise(cfg.heldout_size, np.random.default_rng([cfg.seed, 6]))
        self._g_params = list(self.generator.parameters())
        self._d_params = list(self.critic.parameters())
        self.opt_g = make_optimizer(cfg, self._g_params, cfg.lr_g)
        self.opt_d = make_optimizer(cfg, self._d_params, cfg.lr_d)
        self.step = 0
        self._build_lr_schedules()
        self.history: list[dict] = []
        self.target_step = cfg.steps
        self.out_dir = Path(cfg.out_dir) if cfg.out_dir else None
        self._interrupted = False
        self._elapsed = 0.0
        self.resume_plan: extend.ResumePlan | None = None
        self._scores_reason_logged = False
        self.on_device = self.device != "cpu"
        if self.on_device:  # see wgan.device: no host traffic inside a step
            self.device_noise = DeviceNoise(cfg.seed, self.device)
            self._sample_real, self.data_path = device_sampler(self.dataset, self.device, self.device_noise, self.rng)
            self._device_stats = DeviceStats(TrainingDiverged, TERM_NAMES)
        if graph is not None and cuda_graph is not None and graph != cuda_graph:
            raise ValueError(f"Trainer: graph={graph!r} and cuda_graph={cuda_graph!r} disagree (cuda_graph is "
                             "another name for graph: pass one)")
        self._array_stats = False  # statistics kept as arrays in the step (read after it: a captured CPU step)
        self.captured = capture_step(self, graph if graph is not None else cuda_graph)

    # ------------------------------------------------------------------ one iteration
    def _build_lr_schedules(self) -> None:
        """Set the learning rates of the schedule's piece in force at ``self.step`` (`wgan.extend.lr_segment`):
        a linear decay to 0 is a device-side `LinearLR` per optimizer (a captured step advances it)."""
        kind, lr_g, lr_d, self._lr_start, length = extend.lr_segment(self.config, self.step)
        for opt, lr in ((self.opt_g, lr_g), (self.opt_d, lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr
        self.lr_schedules = [optim.lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=0.0,
                                                         total_iters=max(length, 1))
                             for opt in (self.opt_g, self.opt_d)] if kind == "linear" else []

    def critic_iterations(self, step: int) -> int:
        """n_critic, or 100 at the official WGAN schedule's steps (the first 25 and every 500th)."""
        if self.config.critic_schedule == "official" and (step < 25 or step % 500 == 0):
            return 100
        return self.config.n_critic

    def _tensor(self, array) -> Tensor:
        if self.device == "cpu":
            return minigrad.as_tensor(array)
        return as_device_tensor(array, self.device)

    def sample_noise(self, n: int, rng: np.random.Generator | NoiseStream | None = None) -> np.ndarray:
        """z ~ N(0, I) of shape (n, z_dim), float32 (from `rng`, default the trainer's generator)."""
        return (rng or self.rng).standard_normal((n, self.config.z_dim), dtype=np.float32)

    def _noise_tensor(self, noise):
        if noise is None:
            return None
        if isinstance(noise, dict):
            return {k: self._tensor(v) for k, v in noise.items()}
        return self._tensor(noise)

    def _read_logs(self, objective: Objective) -> dict:
        """The objective's logged scalars as floats, stopping the run at the first non-finite one
        (on a device: as device arrays, read and checked at log steps by `wgan.device.DeviceStats`)."""
        if self.on_device or self._array_stats:
            return {key: value.data if isinstance(value, Tensor) else value for key, value in objective.logs.items()}
        stats = {key: value.item() if isinstance(value, Tensor) else float(value)
                 for key, value in objective.logs.items()}
        self._check_finite(stats)
        return stats

    def _check_finite(self, stats: dict[str, float]) -> None:
        """Stop the run (TrainingDiverged) at the first non-finite value of `stats`, in its order."""
        for key, value in stats.items():
            if not math.isfinite(value):
                raise TrainingDiverged(f"step {self.step + 1}: the {TERM_NAMES.get(key, key)} is {value}; "
                                       "stopping (the last checkpoint, if any, holds the last good state)")

    def _checked_rows(self, rows: list[dict[str, float]]) -> dict:
        """A captured CPU iteration's statistics, read after it: each critic update's row and the generator's,
        checked in the order the eager iteration checks them (its W estimate is not); returns the step's
        statistics as the eager iteration does (the last critic update's, then the generator's)."""
        for row in rows:
            self._check_finite({k: v for k, v in row.items() if k != "w_estimate"})
        return {**rows[-2], **rows[-1]}

    @staticmethod
    def _update(objective: Objective, params: list, optimizer) -> None:
        grads = minigrad.grad(objective.total, params, allow_unused=True)
        for p, g in zip(params, grads):
            p.grad = g
        optimizer.step()

    def critic_step(self, real: np.ndarray, z: np.ndarray, noise=None) -> dict:
        """One critic update on a real batch, noise z and the algorithm's critic noise (what
        ``algorithm.critic_noise`` draws: e.g. eps of shape (B, 1, ...) for an interpolating penalty)."""
        algorithm, critic = self.algorithm, self.critic
        algorithm.before_critic_step(critic)
        real_t = self._tensor(real)
        with minigrad.no_grad():
            fake = self.generator(self._tensor(z))
        objective = algorithm.critic_objective(critic, real_t, fake, self._noise_tensor(noise))
        stats = self._read_logs(objective)
        self._update(objective, self._d_params, self.opt_d)
        algorithm.after_critic_step(critic)
        estimate = algorithm.w_estimate(objective.d_real.data, objective.d_fake.data)
        stats["w_estimate"] = estimate if self.on_device or self._array_stats else float(estimate)
        return stats

    def generator_step(self, z: np.ndarray) -> dict:
        """One generator update on noise z."""
        objective = self.algorithm.generator_objective(self.critic, self.generator(self._tensor(z)))
        stats = self._read_logs(objective)
        self._update(objective, self._g_params, self.opt_g)
        if self.ema is not None:
            self.ema.update(self.generator)
        return stats

    def _set_learning_rates(self) -> None:
        """Advance the schedule's piece in force (`_build_lr_schedules`): its step ``start + e`` runs with
        ``lr * (1 - e / length)``, computed on the device."""
        if self.step > self._lr_start:  # step start + e runs with lr * (1 - e / length)
            for schedule in self.lr_schedules:
                schedule.step()

    def _iteration(self, inputs: list | None = None, rows: list | None = None) -> dict:
        """The critic updates and the generator update of one step (what `wgan.capture` captures). `inputs`: the
        real batch of each critic update, refilled in place outside a captured iteration (else drawn here).
        `rows`: collects each update's statistics as arrays, read after the step (a captured CPU iteration).

        On the CPU the data come from the dataset's sampler, called as host code (`minigrad.capture.host`), and
        the noise from the trainer's generator (recorded by `minigrad.capture.generator` while the step is
        captured): a replay makes the same draws in the same order as the eager step."""
        cfg, B = self.config, self.config.batch_size
        rng: NoiseStream = self.device_noise if self.on_device else capture.generator(self.rng)
        self._array_stats = rows is not None
        try:
            for i in range(self.critic_iterations(self.step)):
                if inputs is not None:
                    real, z = inputs[i], rng.standard_normal((B, cfg.z_dim), np.float32)
                elif self.on_device:
                    real, z = self._sample_real(B), rng.standard_normal((B, cfg.z_dim), np.float32)
                else:
                    real, z = capture.host(self._sample_batch, B), self.sample_noise(B, rng)
                noise = self.algorithm.critic_noise(rng, real.shape)
                stats = self.critic_step(real, z, noise)
                if rows is not None:
                    rows.append(dict(stats))
            z = rng.standard_normal((B, cfg.z_dim), np.float32) if self.on_device else self.sample_noise(B, rng)
            generator_stats = self.generator_step(z)
            if rows is not None:
                rows.append(generator_stats)
        finally:
            self._array_stats = False
        stats.update(generator_stats)
        return stats

    def _sample_batch(self, n: int) -> np.ndarray:
        """A real batch from the dataset's sampler and the trainer's generator, as float32 (host code)."""
        return np.asarray(self.dataset.sample(n, self.rng), dtype=np.float32)

    def train_step(self) -> dict:
        """One generator iteration: the critic updates, then one generator update. Returns its metrics
        (with ``graph``: a replay of the captured iteration)."""
        self._set_learning_rates()
        stats = self.captured() if self.captured is not None else self._iteration()
        self.step += 1
        return stats

    @property
    def graph(self) -> bool:
        """Whether the steps replay a captured iteration (False for eager steps, or once a capture was refused)."""
        return self.captured is not None and self.captured.on

    cuda_graph = graph  # the name it had before the CPU could capture too

    @property
    def graphed_step(self):
        """The captured iteration's `minigrad.graphed` step (a `minigrad.capture.CapturedStep` on the CPU, a
        `minigrad.cuda.GraphedStep` on a device; None when the steps are eager)."""
        return None if self.captured is None else self.captured.graphed

    def read_stats(self) -> dict[int, dict[str, float]]:
        """On a device: the statistics of the steps since the last read, {step: {key: float}}, in one
        transfer, raising TrainingDiverged at a non-finite one. On the CPU (checked every step): {}."""
        return self._device_stats.read() if self.on_device else {}

    # ------------------------------------------------------------------ sampling and evaluation
    def sampling_generator(self, raw: bool = False):
        """The generator sampling and evaluation use: the averaged one when ``ema_decay`` is on (unless
        `raw`), else the trained one."""
        return self.generator if raw or self.ema is None else self.ema.module

    def generate(self, z: np.ndarray, raw: bool = False, batch: int = 1000) -> np.ndarray:
        """G(z) for noise z (numpy), as float32 numpy, with G in eval mode and no graph."""
        generator = self.sampling_generator(raw)
        was_training = generator.training
        generator.eval()
        try:
            with minigrad.no_grad():
                chunks = [generator(self._tensor(np.ascontiguousarray(z[i:i + batch]))).numpy()
                          for i in range(0, len(z), batch)]
        finally:
            generator.train(was_training)
        return np.concatenate(chunks, axis=0)

    def sample(self, n: int, rng: np.random.Generator | None = None, batch: int = 1000,
               raw: bool = False) -> np.ndarray:
        """n generated samples as a float32 numpy array (the averaged generator with EMA, unless `raw`)."""
        rng = rng or np.random.default_rng([self.config.seed, 1, self.step])
        z = np.concatenate([self.sample_noise(min(batch, n - i), rng) for i in range(0, n, batch)], axis=0)
        return self.generate(z, raw=raw, batch=batch)

    def critic_values(self, x: np.ndarray, batch: int = 4096) -> np.ndarray:
        """The critic's scores of samples x (numpy), with D in eval mode and no graph."""
        was_training = self.critic.training
        self.critic.eval()
        try:
            with minigrad.no_grad():
                out = [self.critic(self._tensor(np.ascontiguousarray(x[i:i + batch], dtype=np.float32))).numpy()
                       for i in range(0, len(x), batch)]
        finally:
            self.critic.train(was_training)
        return np.concatenate(out)

    def evaluate(self, n: int | None = None, raw: bool = False) -> dict:
        """Ground-truth metrics of the current generator (the averaged one with EMA, unless `raw`), chosen
        by the dataset's kind (`wgan.metrics.METRICS_BY_KIND`): exact W1 and mode stats for 2-D data
        (`wgan.metrics`); for digit images the classifier score, KID (each with its std) and FD in the digit
        classifier's features (key "fid"), the class spread, and the real data's own values as ceilings
        (``classifier_score_real``, ``kid_real``, ``fid_real``; `wgan.scores`). Other image data: none (the
        log says why). The raw and averaged generators of one step are scored on the same noise and the
        same real samples."""
        from wgan import metrics

        n = n or self.config.eval_samples
        rng = np.random.default_rng([self.config.seed, 2, self.step])
        return metrics.evaluate(self, n, rng, raw=raw)

    def image_scorer(self, n: int | None = None):
        """The `wgan.scores.ImageScorer` of this run's digit data (real features cached), or None when the
        digit-classifier scores do not apply to the dataset (logged once, with the reason)."""
        from wgan import scores

        n = n or self.config.eval_samples
        reason = scores.scores_unavailable_reason(self.dataset)
        if reason is None and getattr(self.dataset, "data", None) is None:
            reason = f"dataset {self.dataset.name!r} holds no fixed image array to compare against"
        if reason is not None:
            if not self._scores_reason_logged:
                logging.getLogger("wgan").warning("image scores not computed: %s", reason)
                self._scores_reason_logged = True
            return None
        return scores.scorer_for(self.dataset, n, seed=self.config.seed)

    def heldout_estimate(self) -> float:
        """The critic's W estimate on the fixed held-out real batch against the trained generator's
        samples of the fixed held-out noise (both drawn once, from the seed), in eval mode."""
        if self.heldout is None:
            raise ValueError("heldout_estimate: the config has heldout_size 0 (no held-out batch)")
        fake = self.generate(self.heldout_z, raw=True)
        return float(self.algorithm.w_estimate(self.critic_values(self.heldout), self.critic_values(fake)))

    # ------------------------------------------------------------------ checkpoints
    def state_meta(self) -> dict:
        return {
            "step": self.step,
            "config": self.config.to_dict(),
            "rng": self.rng.bit_generator.state,
            "minigrad_rng": minigrad.backend.get_rng_state(),
            "dataset_state": self.dataset.state_dict(),
            "elapsed": self._elapsed,
            **({"device_noise": self.device_noise.state_dict()} if self.on_device else {}),
        }

    def save_checkpoint(self, path=None) -> Path:
        """Write the full training state (atomically) to `path` or the run folder's checkpoint.npz."""
        if path is None:
            if self.out_dir is None:
                raise ValueError("save_checkpoint: no path given and the config has no out_dir")
            path = run_folder.checkpoint_file(self.out_dir)
        models = {"G": self.generator, "D": self.critic}
        if self.ema is not None:
            models["G_ema"] = self.ema.module
        return save_checkpoint(path, models, {"G": self.opt_g, "D": self.opt_d}, self.state_meta())

    def load_state(self, checkpoint) -> None:
        """Restore models, optimizers, RNGs, dataset position and step from a checkpoint (path or loaded)."""
        ckpt = load_checkpoint(checkpoint) if isinstance(checkpoint, (str, Path)) else checkpoint
        ckpt.require(("G", "D"), meta=("config", "rng", "minigrad_rng"))
        ckpt.require_finite()
        for name, target in (("G", self.generator), ("D", self.critic)):
            try:
                target.load_state_dict(ckpt.models[name])
            except RuntimeError as exc:  # Module.load_state_dict lists missing keys and shape mismatches
                detail = str(exc).split(":", 1)[-1].strip().replace("\n\t", "; ")
                raise CheckpointError(f"checkpoint {ckpt.path}: model {name} does not fit this run's "
                                      f"{type(target).__name__}: {detail}") from None
        if self.ema is not None:
            if "G_ema" not in ckpt.models:
                raise CheckpointError(f"checkpoint {ckpt.path}: the config has ema_decay > 0 but the checkpoint "
                                      "holds no averaged generator (G_ema)")
            self.ema.module.load_state_dict(ckpt.models["G_ema"])
        for name, optimizer in (("G", self.opt_g), ("D", self.opt_d)):
            try:
                optimizer.load_state_dict(ckpt.optimizers[name])
            except (ValueError, KeyError, TypeError) as exc:
                raise CheckpointError(f"checkpoint {ckpt.path}: optimizer {name}: {exc}") from None
        try:
            self.rng.bit_generator.state = ckpt.meta["rng"]
            minigrad.backend.set_rng_state(ckpt.meta["minigrad_rng"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"checkpoint {ckpt.path}: its random-generator states are malformed "
                                  f"({exc})") from None
        self.dataset.load_state_dict(ckpt.meta.get("dataset_state", {}))
        if self.on_device and "device_noise" in ckpt.meta:
            self.device_noise.load_state_dict(ckpt.meta["device_noise"])
        self.step = ckpt.step
        self._build_lr_schedules()  # the piece of the schedule in force at this step (an extension's, maybe)
        for schedule in self.lr_schedules:  # at the epoch of the last step done (train_step advances it first)
            schedule.load_state_dict(dict(schedule.state_dict(), last_epoch=max(self.step - 1 - self._lr_start, 0)))
        self._elapsed = float(ckpt.meta.get("elapsed", 0.0))

    @classmethod
    def resume(cls, run_dir, dataset=None, callbacks: Iterable = (), progress: bool = False,
               steps: int | None = None, extend_lr: str | None = None, changes: dict | None = None,
               graph: bool | None = None, cuda_graph: bool | None = None) -> Trainer:
        """A Trainer continuing the run in `run_dir` from its checkpoint, by the rule of `wgan.extend`:
        to the planned steps exactly; to a new `steps` exactly when the learning rates are constant, and with a
        decaying schedule only when `extend_lr` ("constant" or "linear") names the extension's schedule;
        `changes` (field -> value) may touch only `wgan.extend.RESUMABLE_FIELDS`. Refused resumes raise
        ConfigError. ``trainer.resume_plan.message`` says in one line what the resume does.

        The run's logged rows and evaluation snapshots after the checkpoint's step are dropped, so the run
        folder reads as if the run had never stopped; temporary files of killed writes are removed.
        """
        from minigrad.serialization import remove_stale_temporaries

        run_dir = Path(run_dir)
        ckpt = load_checkpoint(run_folder.checkpoint_file(run_dir))
        saved = TrainConfig.from_dict(dict(_saved_config(ckpt), out_dir=str(run_dir)))
        plan = extend.plan_resume(saved, ckpt.step, steps=steps, extend_lr=extend_lr, changes=changes,
                                  where=str(run_folder.checkpoint_file(run_dir)))
        trainer = cls(plan.config, dataset=dataset, callbacks=callbacks, progress=progress, graph=graph,
                      cuda_graph=cuda_graph)
        trainer.load_state(ckpt)
        trainer.resume_plan = plan
        remove_stale_temporaries(run_folder.checkpoint_file(run_dir))
        for name in (run_folder.METRICS_JSONL, run_folder.METRICS_CSV, run_folder.CONFIG_NAME):
            (run_dir / (name + ".tmp")).unlink(missing_ok=True)  # left by a killed atomic write
        trainer.history = [row for row in read_metrics(run_dir) if row["step"] <= trainer.step]
        return trainer

    @classmethod
    def from_checkpoint(cls, path, dataset=None) -> Trainer:
        """A Trainer holding a checkpoint's state (a run folder or .npz), writing nothing: for sampling
        and evaluation."""
        ckpt = load_checkpoint(path)
        config = TrainConfig.from_dict(dict(_saved_config(ckpt), out_dir=None))
        trainer = cls(config, dataset=dataset)
        trainer.load_state(ckpt)
        return trainer

    # ------------------------------------------------------------------ the loop
    def fit(self, steps: int | None = None) -> list[dict]:
        """Train until `steps` (default ``config.steps``) generator iterations are done, calling the callbacks'
        hooks around each step (`wgan.callbacks`). Ctrl-C finishes the current step, lets ``on_fit_stop`` write
        the checkpoint and re-raises KeyboardInterrupt. Returns the logged rows."""
        self.target_step, start = (steps if steps is not None else self.config.steps), self.step
        self._call("on_fit_start", self)
        with _DeferredInterrupt(self):
            while self.step < self.target_step and not self._interrupted:
                row, logged = self._timed_step()
                if logged:
                    self._call("on_measure", self, self.step, row)
                if self.evaluates(self.step):
                    self._call("on_eval", self, self.step, row)
                if logged:
                    self.history.append(row)
                    self._call("on_log", self, self.step, row)
                self._call("on_step", self, self.step, row)
            if self.step > start or self._interrupted:
                self._call("on_fit_stop", self)  # still deferred: a Ctrl-C here lets the final checkpoint complete
        if self._interrupted:
            self._interrupted = False
            where = f"; checkpoint written to {run_folder.checkpoint_file(self.out_dir)}" if self.out_dir else ""
            raise KeyboardInterrupt(f"training interrupted at step {self.step}{where}")
        self._call("on_fit_end", self)
        return self.history

    def _timed_step(self) -> tuple[dict, bool]:
        """One step, timed: its row (``step``, the statistics, ``time``) and whether it is logged (on a device,
        the statistics are read from it at logged steps only)."""
        start = time.perf_counter()
        stats = self.train_step()
        self._elapsed += time.perf_counter() - start
        logged = self.logs(self.step)
        if self.on_device:  # statistics stay on the device until a log step reads them all at once
            self._device_stats.add(self.step, stats)
            if logged or self._interrupted:
                stats = self.read_stats()[self.step]
        return {"step": self.step, **stats, "time": round(self._elapsed, 4)}, logged

    def evaluates(self, step: int) -> bool:
        """Whether `step` is an evaluation step: every ``eval_every`` steps, and the last of the running fit."""
        every = self.config.eval_every
        return bool(every) and (step % every == 0 or step >= self.target_step)

    def logs(self, step: int) -> bool:
        """Whether `step`'s row is logged: every ``log_every`` steps, evaluation steps and the last one."""
        return step % self.config.log_every == 0 or step >= self.target_step or self.evaluates(step)

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            fn = getattr(cb, hook, None)
            if fn is None and hook == "on_step" and callable(cb):
                fn = cb
            if fn is not None:
                fn(*args)


def _saved_config(ckpt) -> dict:
    """The config fields a checkpoint's meta holds (CheckpointError naming the file when there are none)."""
    config = ckpt.meta.get("config")
    if not isinstance(config, dict):
        raise CheckpointError(f"checkpoint {ckpt.path}: its meta holds no config object")
    return config


class _DeferredInterrupt:
    """Inside: the first Ctrl-C only sets ``trainer._interrupted`` and says so on stderr at once (the loop
    finishes the current step, which may include an evaluation, writes a checkpoint and stops); a second one
    interrupts at once.

    Windows checked: the handler stays installed through the final checkpoint (a Ctrl-C there waits for the
    write to finish), and on exit the previous handler is restored even when it was not set from Python
    (``signal.signal`` returns None for those: SIGINT's default handler is put back), so no later first Ctrl-C
    is swallowed by a stale handler of a finished run.
    """

    _NOT_INSTALLED = object()

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.previous = self._NOT_INSTALLED

    def _handler(self, signum, frame):
        if self.trainer._interrupted:
            raise KeyboardInterrupt
        self.trainer._interrupted = True
        print("\nCtrl-C: stopping after the current step and writing a checkpoint (press Ctrl-C again to stop "
              "at once)", file=sys.stderr, flush=True)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self.previous is not self._NOT_INSTALLED:
            signal.signal(signal.SIGINT, signal.default_int_handler if self.previous is None else self.previous)
