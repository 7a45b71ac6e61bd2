"""GAN algorithms as plug-ins: one file per algorithm, and the registry `TrainConfig` resolves names in.

Built in (each file cites its paper and declares its defaults)::

    wgan-clip  wgan_clip.py    Arjovsky et al. 2017         weight clipping
    wgan-gp    wgan_gp.py      Gulrajani et al. 2017        two-sided gradient penalty
    wgan-lp    wgan_lp.py      Petzka et al. 2018           one-sided gradient penalty
    sngan      sngan.py        Miyato et al. 2018           spectral norm, hinge loss
    gan        gan.py          Goodfellow et al. 2014       non-saturating GAN
    lsgan      lsgan.py        Mao et al. 2017              least-squares losses, codings (0,1,1) and (-1,1,0)
    wgan-div   wgan_div.py     Wu et al. 2018               k ||grad D||^p penalty, no Lipschitz constraint
    dragan     dragan.py       Kodali et al. 2017           gradient penalty around perturbed real data
    r1         r1.py           Mescheder et al. 2018        non-saturating GAN + gamma/2 ||grad D(x)||^2 on real data
    ebgan      ebgan.py        Zhao et al. 2017             autoencoder critic, margin loss, pulling-away term

An algorithm of your own is a subclass of `Algorithm` (see `wgan.algorithms.base`), selected by

- an import path ``"mypkg.algos:MyGAN"`` (found by any process that can import ``mypkg``), or
- a name registered from Python with ``register(MyGAN)`` (``MyGAN.name``) or ``register(MyGAN, "my-gan")``;
  the resolved config records the class's import path in ``algorithm_path``, so a separate
  ``wgan`` process (resume, sample, eval, sweep workers) imports it from there, or
- an entry point in the group ``wgan.algorithms`` of an installed package.
"""
from __future__ import annotations

import importlib
from importlib import metadata

from wgan.algorithms.base import Algorithm, Objective, Option
from wgan.algorithms.dragan import DRAGAN
from wgan.algorithms.ebgan import EBGAN
from wgan.algorithms.gan import GAN
from wgan.algorithms.lsgan import LSGAN
from wgan.algorithms.r1 import R1
from wgan.algorithms.sngan import SNGAN
from wgan.algorithms.wgan_clip import WGANClip
from wgan.algorithms.wgan_div import WGANDiv
from wgan.algorithms.wgan_gp import WGANGP
from wgan.algorithms.wgan_lp import WGANLP
from wgan.validation import ConfigError

__all__ = ["ALGORITHMS", "Algorithm", "Objective", "Option", "register", "get_algorithm", "import_path",
           "registered_names"]

_BUILTIN: tuple[type[Algorithm], ...] = (WGANClip, WGANGP, WGANLP, SNGAN, GAN, LSGAN, WGANDiv, DRAGAN, R1,
                                         EBGAN)
#: The built-in algorithms' names.
ALGORITHMS: tuple[str, ...] = tuple(cls.name for cls in _BUILTIN)
ENTRY_POINT_GROUP = "wgan.algorithms"

_REGISTRY: dict[str, type[Algorithm]] = {cls.name: cls for cls in _BUILTIN}


def _check_algorithm_class(cls, where: str) -> type[Algorithm]:
    if not (isinstance(cls, type) and issubclass(cls, Algorithm)):
        raise ConfigError(f"algorithm: {where} is {cls!r}, not a subclass of wgan.algorithms.Algorithm")
    return cls


def register(cls: type[Algorithm], name: str | None = None) -> type[Algorithm]:
    """Make `cls` selectable as ``TrainConfig(algorithm=name)`` (default ``cls.name``); returns `cls`,
    so it also works as a class decorator. A built-in name cannot be replaced."""
    _check_algorithm_class(cls, "register's argument")
    name = cls.name if name is None else name
    if not isinstance(name, str) or not name or ":" in name:
        raise ValueError(f"register: the algorithm name must be a non-empty string without ':', got {name!r}")
    if name in ALGORITHMS and _REGISTRY[name] is not cls:
        raise ValueError(f"register: {name!r} is a built-in algorithm; choose another name")
    if not cls.name:
        cls.name = name
    _REGISTRY[name] = cls
    return cls


def registered_names() -> tuple[str, ...]:
    """The built-in names followed by those registered from Python."""
    return ALGORITHMS + tuple(n for n in _REGISTRY if n not in ALGORITHMS)


def import_path(cls: type[Algorithm]) -> str:
    """``"module:QualName"`` of a class, as `get_algorithm` imports it."""
    return f"{cls.__module__}:{cls.__qualname__}"


def _import(path: str) -> type[Algorithm]:
    module_name, _, qualname = path.partition(":")
    if not module_name or not qualname:
        raise ConfigError(f"algorithm: {path!r} is not an import path of the form module:Class")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"algorithm: cannot import module {module_name!r} of {path!r} ({exc})") from None
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"algorithm: module {module_name!r} has no attribute {qualname!r} (from {path!r})")
        obj = getattr(obj, part)
    return _check_algorithm_class(obj, repr(path))


def get_algorithm(spec: str, path: str | None = None) -> type[Algorithm]:
    """The algorithm class named by `spec`: a registered name, an entry point, or ``module:Class``.

    `path` (a config's ``algorithm_path``) is imported when `spec` is not registered in this process.
    """
    if not isinstance(spec, str) or not spec:
        raise ConfigError(f"algorithm: expected a name or an import path module:Class, got {spec!r}")
    if spec in _REGISTRY:
        return _REGISTRY[spec]
    if ":" in spec:
        return _import(spec)
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == spec:
            return register(_check_algorithm_class(entry.load(), f"entry point {spec!r}"), spec)
    if path:
        cls = _import(path)
        return _REGISTRY.get(spec) or register(cls, spec)
    raise ConfigError(f"algorithm: {spec!r} is not one of {', '.join(registered_names())} "
                      "(nor a name registered with wgan.algorithms.register, or an import path module:Class)")
