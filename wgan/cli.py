"""The command line: ``python -m wgan`` (or ``wgan``) with train, sample, eval, plot and reproduce.

``wgan train`` with no arguments runs `DEFAULT_RUN`: WGAN-GP on the 8-mode ring, sized to
finish in about two minutes on a 2-core CPU and cover every mode. Giving ``--dataset``,
``--algorithm``, ``--preset`` or ``--config`` starts instead from `TrainConfig`'s own defaults
(the papers'); every other flag overrides single fields either way.
"""
from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from wgan import algorithms
from wgan.config import ALGORITHMS, GROUPS, ConfigError, Setting, TrainConfig, settings
from wgan.extend import RESUMABLE_FIELDS

#: The embedded default of ``wgan train``: the gan_toy.py recipe (ReLU MLPs, He/Glorot init,
#: z ~ N(0, I_2), lambda 0.1, Adam betas (0.5, 0.9), n_critic 5, batch 256) on the PacGAN ring
#: (8 modes, radius 1, sigma 0.01), with smaller nets (2 hidden layers of 128), a 3x larger
#: learning rate (3e-4) decayed linearly to 0, and 4,000 generator iterations: it covers all
#: 8 modes in about a minute on 2 idle CPU cores.
DEFAULT_RUN = dict(dataset="ring", algorithm="wgan-gp", preset="toy", width=128, depth=2, lr_g=3e-4,
                   lr_d=3e-4, lr_decay="linear", steps=4000, eval_every=1000)

_BASE_FIELDS = ("dataset", "algorithm", "preset")
_OPTION_DEST = "algorithm_option_"

#: `wgan reproduce` flags: name -> argparse keywords. A flag applies to the reproductions whose function
#: (`wgan.reproductions.REPRODUCTIONS`) takes a parameter of its name: the signatures say which, nothing else.
_REPRODUCE_FLAGS: dict[str, dict[str, Any]] = {
    "steps": dict(type=int, help="generator iterations per run"),
    "resnet_steps": dict(type=int, help="generator iterations per ResNet-101 run (default 500)"),
    "dataset": dict(help="the dataset (architectures: digits (default) or mnist:PATH)"),
    "workers": dict(type=int, help="runs trained at once, or local Dask workers (default: cores)"),
    "report_only": dict(action="store_true", help="write the figures and tables from the runs finished so far"),
    "trials": dict(type=int, help="random architectures (paper: 200)"),
    "full": dict(action="store_true", help="the paper's architecture space"),
    "scheduler": dict(metavar="tcp://HOST:PORT", help="run on an existing Dask cluster"),
    "seeds": dict(type=int, help="seeds per cell (default 8, 10, 3)"),
}


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, ``wgan train: error: MESSAGE (see wgan train --help)``,
    with exit status 2 (argparse's default prints the whole usage first). `build_parser` sets ``commands``
    (subcommand name -> its parser) on the top-level one."""

    commands: dict[str, _Parser]

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def _parse_bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


# ----------------------------------------------------------------------------------------- train's flags
def field_flags() -> dict[str, str]:
    """field name -> its ``wgan train`` flag, for every `TrainConfig` field that has one."""
    return {name: flag for name, (spec, _) in settings().items() if (flag := spec.flag_name(name)) is not None}


def _shown(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def describe_field(name: str, spec: Setting, default: Any) -> str:
    """The field's help with its values and its default, as ``--help`` and the docs show it."""
    text = spec.help
    if spec.names is not None:
        text += f": one of {', '.join(spec.names())}, a name registered from Python, or an import path"
    if spec.option is not None:
        text += f" ({_option_defaults(spec.option)})"
    elif spec.base is not Setting.__dataclass_fields__["base"].default:
        text += f" (default: the algorithm's, else {_shown(spec.base)})"
    elif default is not None and default != {} and default != []:
        text += f" (default {_shown(default)})"
    return text


def _option_defaults(option: algorithms.Option, classes: list | None = None) -> str:
    """Which of the algorithms `classes` (default: the built-in ones) take `option`, and its default with each
    (and with each preset, where it differs)."""
    classes = classes if classes is not None else [algorithms.get_algorithm(n) for n in ALGORITHMS]
    parts = []
    for cls in classes:
        if not any(opt.name == option.name for opt in cls.options):
            continue
        plain = cls.option_defaults()[option.name]
        text = f"{cls.name}: {_shown(plain)}"
        for preset in cls.presets:
            value = cls.option_defaults(preset)[option.name]
            if value != plain:
                text += f", with --preset {preset} {_shown(value)}"
        parts.append(text)
    return "; ".join(parts)


def _add_field_flags(parser: argparse.ArgumentParser) -> dict[str, argparse._ArgumentGroup]:
    """One flag per `TrainConfig` field that has one, each in its group (`wgan.config.GROUPS`); returns the
    groups."""
    groups = {key: parser.add_argument_group(title) for key, title in GROUPS.items() if key != "recorded"}
    defaults = TrainConfig()
    for name, flag in field_flags().items():
        spec, kind = settings()[name]
        kwargs: dict[str, Any] = dict(dest=name, default=None, help=describe_field(name, spec, getattr(defaults, name)))
        if kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif kind is tuple:
            kwargs.update(type=float, nargs=len(spec.metavar or ()), metavar=spec.metavar)
        else:
            choices = "{" + ",".join(map(str, spec.choices)) + "}" if spec.choices is not None else None
            kwargs.update(type=kind, metavar=spec.metavar or choices or name.upper())
        groups[spec.group].add_argument(flag, **kwargs)
    return groups


def _option_flags(classes: list) -> dict[str, tuple[algorithms.Option, str]]:
    """option name -> (the option, its help with the algorithms that take it and their defaults), for each
    option of `classes` that has no `TrainConfig` field (the shared options' top-level spellings have)."""
    out: dict[str, tuple[algorithms.Option, str]] = {}
    for cls in classes:
        for opt in cls.options:
            if opt.name in out or opt.name in settings():
                continue
            out[opt.name] = (opt, f"{opt.help} ({_option_defaults(opt, classes)})")
    return out


def _add_algorithm_options(group: argparse._ArgumentGroup, classes: list) -> None:
    """One flag per option of the algorithms `classes` (``--name-with-dashes``), once per option name; an
    option spelled as a `TrainConfig` field (`wgan.algorithms.options.TOP_LEVEL`) has that field's flag."""
    for name, (opt, text) in _option_flags(classes).items():
        kwargs: dict[str, Any] = {"dest": _OPTION_DEST + name, "default": None, "help": text}
        if opt.type is tuple:
            kwargs.update(type=float, nargs=len(opt.default))
        elif opt.type is bool:
            kwargs.update(type=_parse_bool)
        else:
            kwargs.update(type=opt.type)
        if opt.choices is not None:
            kwargs["choices"] = opt.choices
        kwargs["metavar"] = opt.metavar or (name.upper() if opt.choices is None else None)
        group.add_argument("--" + name.replace("_", "-"), **kwargs)


def _add_train_actions(parser: argparse.ArgumentParser) -> None:
    """The flags of ``wgan train`` that do something rather than set a config field."""
    actions = parser.add_argument_group("actions")
    actions.add_argument("--config", type=Path, metavar="FILE", help="a config.json to start from")
    actions.add_argument("--resume", type=Path, metavar="RUN_DIR",
                         help="continue the run in RUN_DIR (to its planned steps, or to a new --steps; see "
                              "--extend-lr)")
    actions.add_argument("--extend-lr", choices=("constant", "linear"), default=None,
                         help="with --resume and a new --steps on a run whose learning rates decay: keep the last "
                              "rates (constant) or decay them linearly to 0 at the new last step (linear)")
    actions.add_argument("--no-graph", "--no-cuda-graph", dest="no_graph", action="store_true",
                         help="run every step eagerly instead of replaying a captured one (a tape of NumPy calls on "
                              "the CPU, a CUDA graph on a GPU)")
    actions.add_argument("--threads", type=int, default=None, metavar="N",
                         help="BLAS/OpenMP threads (minigrad.set_num_threads; default: the libraries' own)")
    actions.add_argument("--tensorboard", action="store_true",
                         help="also write TensorBoard logs (scalars, sample figures) to RUN/tensorboard "
                              "(needs the tensorboard extra: pip install -e \".[tensorboard]\")")
    actions.add_argument("--no-progress", action="store_true", help="no progress bar")


def _values(kind: type, choices: tuple | None = None, minimum: float | None = None, positive: bool = False,
            below: float | None = None, length: int = 2) -> str:
    """The values a field or an option takes, in words (the docs' "values" column)."""
    if choices is not None:
        return ", ".join(f"`{c}`" for c in choices)
    if kind is bool:
        return "flag"
    if kind is tuple:
        return f"{length} numbers" + (f" in [{minimum or 0:g}, {below:g})" if below is not None else "")
    if kind in (int, float):
        word = "integer" if kind is int else "number"
        if below is not None:
            return f"{word} in [{minimum or 0:g}, {below:g})"
        if minimum is None:
            return word
        return f"{word} {'>' if positive else '≥'} {minimum:g}"
    if kind is dict:
        return "name → value"
    return "records" if kind is list else "text"


def options_page() -> str:
    """``docs/options.md``: every flag of ``wgan train`` by group, generated from the fields' declarations
    (`wgan.config.TrainConfig`), the algorithms' options and the actions (``scripts/make_options_page.py``
    writes it; a test checks that the committed page is current)."""
    parser = build_parser().commands["train"]
    lines = ["# `wgan train` options", "",
             "Generated from the declarations in `wgan/config.py` (fields), `wgan/algorithms/` (options) and "
             "`wgan/cli.py` (actions) by `python3 scripts/make_options_page.py`; `wgan train --help` prints the "
             "same. Every field is also a `TrainConfig` keyword, a key of `config.json` and of a sweep spec. "
             "With no `--dataset`, `--algorithm`, `--preset` or `--config`, `wgan train` starts from its embedded "
             "default run (`wgan.cli.DEFAULT_RUN`); a field left unset takes the algorithm's default "
             "(`TrainConfig.resolve()`).", ""]
    defaults = TrainConfig()
    by_group: dict[str, list[str]] = {}
    for name, (spec, kind) in settings().items():
        flag = spec.flag_name(name)
        shown = flag if kind is not bool else f"{flag}, --no-{flag[2:]}" if flag else None
        text = describe_field(name, spec, getattr(defaults, name)).replace("|", "\\|")
        values = "a name or module:attr" if spec.names is not None else _values(
            kind, spec.choices, spec.minimum, spec.positive, spec.below)
        by_group.setdefault(spec.group, []).append(f"| {f'`{shown}`' if shown else '–'} | `{name}` | {values} | "
                                                   f"{text} |")
    for name, (opt, text) in _option_flags([algorithms.get_algorithm(n) for n in ALGORITHMS]).items():
        values = _values(opt.type, opt.choices, opt.minimum, opt.positive,
                         length=len(opt.default) if opt.type is tuple else 0)
        by_group["options"].append(f"| `--{name.replace('_', '-')}` | `algorithm_options[\"{name}\"]` | {values} | "
                                   f"{text.replace('|', chr(92) + '|')} |")
    header = ["| flag | field | values | meaning (default) |", "|---|---|---|---|"]
    for key, title in GROUPS.items():
        if key in by_group:
            lines += [f"## {title[0].upper() + title[1:]}", "", *header, *by_group[key], ""]
    actions = next(g for g in parser._action_groups if g.title == "actions")
    lines += ["## Actions", "", "Flags that do something rather than set a field.", "",
              "| flag | meaning |", "|---|---|"]
    lines += [f"| {', '.join(f'`{o}`' for o in a.option_strings)} | {a.help} |" for a in actions._group_actions]
    return "\n".join(lines) + "\n"


def _given_options(args: argparse.Namespace) -> dict:
    return {dest[len(_OPTION_DEST):]: value for dest, value in vars(args).items()
            if dest.startswith(_OPTION_DEST) and value is not None}


def _algorithm_in(argv: list[str]):
    """The algorithm class an argv's ``--algorithm`` names when it is not built in (for its flags)."""
    for i, arg in enumerate(argv):
        name = arg.split("=", 1)[1] if arg.startswith("--algorithm=") else (
            argv[i + 1] if arg == "--algorithm" and i + 1 < len(argv) else None)
        if name is not None and name not in ALGORITHMS:
            try:
                return algorithms.get_algorithm(name)
            except ConfigError:
                return None  # reported, with its reason, when the config resolves
    return None


def _takers(flag: str) -> list[str]:
    """The reproductions whose function takes the parameter `flag`."""
    from wgan.reproductions import REPRODUCTIONS

    return sorted(name for name, fn in REPRODUCTIONS.items() if flag in inspect.signature(fn).parameters)


def build_parser(extra_algorithm=None) -> _Parser:
    """The argument parser; `extra_algorithm` (a class) adds the flags of a non-built-in algorithm."""
    parser = _Parser(prog="wgan", description="Train and evaluate Wasserstein GANs on minigrad.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train a model (no arguments: the embedded two-minute default)",
                           description="Train a model. With no --dataset, --algorithm, --preset or --config it "
                                       "starts from the embedded default (WGAN-GP on the ring, about two minutes); "
                                       "otherwise from the papers' defaults. Every flag below sets one field "
                                       "(docs/options.md).")
    groups = _add_field_flags(train)
    classes = [algorithms.get_algorithm(name) for name in ALGORITHMS]
    _add_algorithm_options(groups["options"], classes + ([extra_algorithm] if extra_algorithm is not None else []))
    _add_train_actions(train)
    sample = sub.add_parser("sample", help="draw samples from a checkpoint to .png or .npy")
    sample.add_argument("checkpoint", type=Path, help="a run folder or a checkpoint .npz")
    sample.add_argument("-n", type=int, default=64, help="number of samples")
    sample.add_argument("--out", type=Path, required=True, help="output file (.png or .npy)")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--raw", action="store_true", help="the trained generator, not its average (ema_decay)")

    evaluate = sub.add_parser("eval", help="ground-truth metrics of a checkpoint (printed as JSON)")
    evaluate.add_argument("checkpoint", type=Path, help="a run folder or a checkpoint .npz")
    evaluate.add_argument("-n", type=int, default=None, help="samples (default: the config's eval_samples)")
    evaluate.add_argument("--raw", action="store_true", help="score the trained generator, not its average")

    plot = sub.add_parser("plot", help="re-plot a run folder's metrics, or animate its evaluations (--animate)")
    plot.add_argument("run_dir", type=Path)
    plot.add_argument("--keys", nargs="+", default=None,
                      help="metrics to plot in one panel (default: the plot keys of the run's dataset kind, "
                           "wgan.metrics.METRICS_BY_KIND: the W estimates with exact W1 or the image scores, and "
                           "the gradient norm and penalty below)")
    plot.add_argument("--out", type=Path, help="output file (default RUN_DIR/metrics.png, or RUN_DIR/training.gif "
                                               "with --animate)")
    plot.add_argument("--animate", action="store_true",
                      help="write a GIF of the samples (over the critic's contours) at every evaluation")
    plot.add_argument("--fps", type=float, default=4.0, help="frames per second of the --animate GIF")

    reproduce = sub.add_parser("reproduce", help="run one of the papers' reproductions")
    reproduce.add_argument("name", help="reproduction name (see `wgan reproduce list`)")
    reproduce.add_argument("--out", type=Path, default=None, help="output folder (default reproductions/NAME)")
    reproduce.add_argument("--quick", action="store_true", help="a smaller, faster version (a smoke test)")
    for name, kwargs in _REPRODUCE_FLAGS.items():
        takers = ", ".join(_takers(name))
        reproduce.add_argument("--" + name.replace("_", "-"), dest=name, default=None,
                               **dict(kwargs, help=f"{kwargs['help']} ({takers})"))

    sweep = sub.add_parser("sweep", help="run a sweep of training runs on Dask (a JSON/TOML spec), or report on one")
    sweep.add_argument("spec", nargs="?", type=Path, help="the sweep spec (.toml or .json)")
    sweep.add_argument("--out", type=Path, help="the sweep folder (trials/NNNN run folders, results.csv, report)")
    sweep.add_argument("--report", type=Path, metavar="DIR", help="only write DIR's report (report.md, report.png)")
    sweep.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per core)")
    sweep.add_argument("--gpus", type=int, default=0, help="local workers that declare a GPU (Dask resource GPU=1)")
    sweep.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", help="an existing Dask scheduler")
    sweep.add_argument("--retry-failed", action="store_true", help="rerun the trials recorded as failed")
    sweep.add_argument("--metric", default=None, help="with --report: the metric (default: the spec's)")
    sweep.add_argument("--field", default=None, help="with --report: the swept field on the x axis")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.commands = sub.choices
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig a parsed `train` command line describes."""
    given = {name: getattr(args, name) for name in field_flags() if getattr(args, name) is not None}
    if args.config is not None:
        base = TrainConfig.load(args.config).to_dict()
    elif any(name in given for name in _BASE_FIELDS):
        base = {}
    else:
        base = dict(DEFAULT_RUN)
    base.update(given)
    options = _given_options(args)
    if options:
        algorithm = TrainConfig.from_dict(base).algorithm_class()
        foreign = sorted(set(options) - {opt.name for opt in algorithm.options})
        if foreign:
            flags = ", ".join("--" + name.replace("_", "-") for name in foreign)
            own = ", ".join("--" + o.name.replace("_", "-") for o in algorithm.options) or "none"
            raise ConfigError(f"algorithm_options: {flags} not an option of {algorithm.name} (its options: {own})")
        base["algorithm_options"] = dict(base.get("algorithm_options", {}), **options)
    for name in given:  # a top-level option spelling given on the command line wins over the --config file's
        if name in base.get("algorithm_options", {}) and name not in options:
            del base["algorithm_options"][name]
    config = TrainConfig.from_dict(base)
    if "out_dir" not in given:
        config.out_dir = str(Path("runs") / f"{config.dataset.replace(':', '_').replace('/', '_')}-"
                                            f"{config.algorithm}-{time.strftime('%Y%m%d-%H%M%S')}")
    return config


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _fail(parser: argparse.ArgumentParser, message: str):
    """Exit with status 2 and `message` on one line: ``wgan train: error: MESSAGE``."""
    parser.exit(2, f"{parser.prog}: error: {' '.join(str(message).split())}\n")


#: Exceptions that, raised while reading the user's files and values, are the user's error (the message
#: names the file, field or device); anything else is a bug and keeps its traceback.
USER_ERRORS = (ConfigError, ValueError, OSError)


def _require_device(device: str, parser, flag: str = "--device") -> None:
    """Fail with one line when `device` is CUDA and this machine has no usable GPU with CuPy."""
    import minigrad

    try:
        if minigrad.backend.normalize_device(device) == "cuda":
            minigrad.backend.xp_for("cuda")
    except (RuntimeError, ValueError) as exc:
        _fail(parser, f"{flag} {device}: {exc}")


def _make_folder(path: Path, parser, flag: str) -> None:
    """Create the output folder `path` (and its parents), or fail with one line naming it and why."""
    blocking = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        _fail(parser, f"{flag}: cannot create the folder {path}: {blocking} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(parser, f"{flag}: cannot create the folder {path}: {exc.strerror or exc}")


def _format_duration(seconds: float) -> str:
    minutes, sec = divmod(int(round(seconds)), 60)
    return f"{minutes}m{sec:02d}s" if minutes else f"{seconds:.1f}s"


def _summary(trainer, history: list[dict], wall: float) -> str:
    """The human summary printed at the end of a run: where the files are and the final metrics."""
    from wgan.metrics import is_evaluation
    from wgan.plots import describe_scores

    cfg, out = trainer.config, trainer.out_dir
    last_eval: dict = next((row for row in reversed(history) if is_evaluation(row)), {})
    last = history[-1] if history else {}
    centers = getattr(trainer.dataset, "centers", None)
    scores = describe_scores(last_eval, n_modes=None if centers is None else len(centers))
    lines = [f"done: {cfg.algorithm} on {cfg.dataset}, step {trainer.step}/{cfg.steps} in {_format_duration(wall)}"]
    final = [f"critic's W estimate {last['w_estimate']:.4g}"] if isinstance(last.get("w_estimate"), float) else []
    if scores:
        final.insert(0, scores + (f" (step {last_eval['step']})" if last_eval.get("step") != trainer.step else ""))
    if final:
        lines.append("  final: " + " · ".join(final))
    if out is not None:
        figures = sorted(p.name for p in out.glob("samples_*.png"))
        files = [name for name in ("metrics.png", "checkpoint.npz", "metrics.csv", "config.json")
                 if (out / name).exists()]
        lines.append(f"  run folder {out}: {', '.join(([figures[-1]] if figures else []) + files)}"
                     + (f" (+{len(figures) - 1} earlier samples_*.png)" if len(figures) > 1 else ""))
        from wgan.extend import schedule_decays
        from wgan.snapshots import snapshot_paths

        extend = " --extend-lr constant|linear" if schedule_decays(cfg, trainer.step) else ""
        hints = ([f"wgan plot {out} --animate"] if snapshot_paths(out) else []) + \
            [f"wgan train --resume {out} --steps N{extend}"]
        lines.append("  next: " + "   |   ".join(hints))
    return "\n".join(lines)


def _train(args, parser) -> int:
    from wgan.train import Trainer, TrainingDiverged

    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads: expected a positive number of threads, got {args.threads}")
        import minigrad

        minigrad.set_num_threads(args.threads)
    if args.device is not None:
        _require_device(args.device, parser)
    try:
        if args.resume is not None:
            for name, flag in (("config", "--config"), ("out_dir", "--out")):
                if getattr(args, name) is not None:
                    parser.error(f"{flag}: not with --resume, which continues the run in {args.resume} with its "
                                 "saved config")
            given = [name for name in field_flags() if getattr(args, name) is not None and name != "steps"]
            fixed = [name for name in given if name not in RESUMABLE_FIELDS] + list(_given_options(args))
            if fixed:
                parser.error(f"--resume continues a run with its saved training fields: only --steps may be given "
                             f"with it, not {', '.join(_flag(name) for name in fixed)} (besides --extend-lr and the "
                             f"bookkeeping fields {', '.join(_flag(n) for n in RESUMABLE_FIELDS if n != 'plot_every')},"
                             " which are applied); to train differently, start a new run with --out")
            changes = {name: getattr(args, name) for name in given}
            trainer = Trainer.resume(args.resume, progress=not args.no_progress, steps=args.steps,
                                     extend_lr=args.extend_lr, changes=changes,
                                     graph=False if args.no_graph else None)
            assert trainer.resume_plan is not None  # Trainer.resume sets it
            print(trainer.resume_plan.message, file=sys.stderr)
        else:
            if args.extend_lr is not None:
                parser.error("--extend-lr: only with --resume (it schedules the learning rates of an extension)")
            config = config_from_args(args)
            _require_device(config.device, parser, "device")
            assert config.out_dir is not None  # config_from_args always names a run folder
            _make_folder(Path(config.out_dir), parser, "--out")
            trainer = Trainer(config, progress=not args.no_progress, graph=False if args.no_graph else None)
    except USER_ERRORS as exc:
        _fail(parser, str(exc))
    if args.tensorboard:
        from wgan.callbacks.tensorboard import TensorBoardLogger

        try:
            trainer.callbacks.append(TensorBoardLogger())
        except ImportError as exc:
            _fail(parser, f"--tensorboard: {exc}")
    cfg = trainer.config
    print(f"run folder: {cfg.out_dir}  ({cfg.algorithm} on {cfg.dataset}, {cfg.steps} steps, "
          f"model {cfg.model}, batch {cfg.batch_size}, n_critic {cfg.n_critic})", file=sys.stderr)
    start = time.perf_counter()
    try:
        history = trainer.fit()
    except TrainingDiverged as exc:
        print(f"wgan train: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"wgan train: {exc or 'interrupted'}", file=sys.stderr)
        return 130
    finally:
        for callback in trainer.callbacks:  # flush logs also when the run stops early
            if hasattr(callback, "close"):
                callback.close()
    print(_summary(trainer, history, time.perf_counter() - start), file=sys.stderr)
    from wgan.metrics import is_evaluation

    last = next((row for row in reversed(history) if is_evaluation(row)), history[-1] if history else {})
    print(json.dumps({k: v for k, v in last.items()}, indent=None))
    return 0


def _load(path: Path, parser):
    from wgan.train import Trainer

    try:
        trainer = Trainer.from_checkpoint(path)
    except USER_ERRORS as exc:
        _fail(parser, str(exc))
    return trainer


def _sample(args, parser) -> int:
    if args.n < 1:
        parser.error(f"-n: expected a positive number of samples, got {args.n}")
    suffix = args.out.suffix.lower()
    if suffix not in (".png", ".npy"):
        parser.error(f"--out: {args.out} must end in .png or .npy")
    trainer = _load(args.checkpoint, parser)
    samples = trainer.sample(args.n, np.random.default_rng(args.seed), raw=args.raw)
    _make_folder(args.out.parent, parser, "--out")
    try:
        if suffix == ".npy":
            np.save(args.out, samples)
        else:
            from wgan import plots

            title = f"{trainer.config.algorithm} on {trainer.config.dataset} · checkpoint at step {trainer.step}"
            if trainer.dataset.kind == "2d":
                real = trainer.dataset.reference_sample(args.n, np.random.default_rng(args.seed + 1))
                bounds = max(3.0, 1.25 * float(np.abs(real).max()))
                plots.plot_toy(real, samples, args.out, critic=trainer.critic_values, bounds=bounds, title=title)
            else:
                plots.plot_image_grid(samples, args.out, nrow=8, title=title)
    except OSError as exc:
        _fail(parser, f"--out: cannot write {args.out}: {exc.strerror or exc}")
    print(f"wrote {args.n} samples to {args.out}")
    return 0


def _eval(args, parser) -> int:
    if args.n is not None and args.n < 2:
        parser.error(f"-n: expected at least 2 samples, got {args.n}")
    trainer = _load(args.checkpoint, parser)
    metrics = trainer.evaluate(args.n, raw=args.raw)
    print(json.dumps({"step": trainer.step, **{k: (v.item() if hasattr(v, "item") else v)
                                               for k, v in metrics.items()}}))
    return 0


def _plot(args, parser) -> int:
    from wgan import plots
    from wgan.run_folder import read_metrics

    if args.animate:
        from wgan.snapshots import animate

        if args.keys is not None:
            parser.error("--keys: applies to the metrics figure, not to --animate")
        try:
            out, frames = animate(args.run_dir, args.out, fps=args.fps)
        except USER_ERRORS as exc:
            _fail(parser, str(exc))
        print(f"wrote {out} ({frames} frames)")
        return 0
    if not args.run_dir.is_dir():
        _fail(parser, f"run folder {args.run_dir} does not exist")
    try:
        rows = read_metrics(args.run_dir)
    except (OSError, ValueError) as exc:
        _fail(parser, f"{args.run_dir / 'metrics.jsonl'}: cannot be read as JSON lines ({exc})")
    if not rows:
        _fail(parser, f"{args.run_dir}: no metrics.jsonl with rows to plot")
    if args.keys is not None:
        missing = [k for k in args.keys if not any(k in r for r in rows)]
        if missing:
            parser.error(f"--keys: {missing} not in the run's metrics "
                         f"({sorted({k for r in rows for k in r})})")
    out = args.out or args.run_dir / "metrics.png"
    title = None
    try:
        if (args.run_dir / "config.json").is_file():
            config = TrainConfig.load(args.run_dir / "config.json")
            title = f"{config.algorithm} on {config.dataset}"
        plots.plot_metrics(rows, out, keys=None if args.keys is None else tuple(args.keys), title=title)
    except USER_ERRORS as exc:
        _fail(parser, str(exc))
    print(f"wrote {out}")
    return 0


def _reproduce(args, parser) -> int:
    from wgan.reproductions import REPRODUCTIONS

    if args.name == "list":
        for name, fn in sorted(REPRODUCTIONS.items()):
            print(f"{name}: {(fn.__doc__ or '').strip().splitlines()[0] if fn.__doc__ else ''}")
        return 0
    if args.name not in REPRODUCTIONS:
        parser.error(f"reproduce: unknown reproduction {args.name!r}; available: {', '.join(sorted(REPRODUCTIONS))}")
    options = {name: getattr(args, name) for name in _REPRODUCE_FLAGS if getattr(args, name) is not None}
    unknown = [name for name in options if args.name not in _takers(name)]
    if unknown:
        takers = sorted(set.intersection(*(set(_takers(name)) for name in unknown)))
        parser.error(f"reproduce {args.name}: --{', --'.join(n.replace('_', '-') for n in unknown)} "
                     f"only apply to {' and '.join(f'`reproduce {t}`' for t in takers) or 'other reproductions'}")
    for name, kwargs in _REPRODUCE_FLAGS.items():
        if kwargs.get("type") is int and name in options and options[name] < 1:
            parser.error(f"--{name.replace('_', '-')}: expected a positive integer, got {options[name]}")
    out = args.out or Path("reproductions") / args.name
    _make_folder(out, parser, "--out")
    try:
        result = REPRODUCTIONS[args.name](out, quick=args.quick, **options)
    except (ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))
    print(json.dumps(result, default=str))
    return 0


def _sweep(args, parser) -> int:
    from wgan.sweep import SpecError, write_report

    if args.report is not None:
        if args.spec is not None or args.out is not None:
            parser.error("--report DIR writes the report of an existing sweep; give no SPEC or --out with it")
        try:
            print(write_report(args.report, metric=args.metric, x_field=args.field)["markdown"], end="")
        except (SpecError, FileNotFoundError) as exc:
            parser.error(str(exc))
        return 0
    if args.spec is None or args.out is None:
        parser.error("give a spec and a sweep folder: wgan sweep SPEC --out DIR (or wgan sweep --report DIR)")
    if args.metric is not None or args.field is not None:
        parser.error("--metric and --field go with --report (the sweep reports the spec's metric)")
    try:
        from wgan.sweep import SweepInterrupted, run_sweep
    except ImportError as exc:
        parser.error(str(exc))
    try:
        rows = run_sweep(args.spec, args.out, workers=args.workers, scheduler=args.scheduler, gpus=args.gpus,
                         retry_failed=args.retry_failed, progress=not args.no_progress)
    except (SpecError, ConfigError, FileNotFoundError) as exc:
        parser.error(str(exc))
    except SweepInterrupted as exc:
        print(f"wgan sweep: {exc}", file=sys.stderr)
        return 130
    failed = sum(row["status"] != "ok" for row in rows)
    print(f"{len(rows)} trials, {failed} failed: {args.out / 'results.csv'}, report {args.out / 'report.md'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line. User errors exit with status 2 and one line on stderr; a Ctrl-C outside
    training exits with 130 and one line; any other exception is a bug and propagates with its traceback."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_algorithm_in(argv))
    args = parser.parse_args(argv)
    sub = parser.commands[args.command]  # the subcommand's parser, for errors
    handler = {"train": _train, "sample": _sample, "eval": _eval, "plot": _plot, "reproduce": _reproduce,
               "sweep": _sweep}
    try:
        return handler[args.command](args, sub)
    except KeyboardInterrupt:
        print(f"{sub.prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
