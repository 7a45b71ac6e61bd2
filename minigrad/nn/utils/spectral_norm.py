"""Spectral normalisation (Miyato et al., 2018), as PyTorch's ``torch.nn.utils.spectral_norm``.

The weight W is viewed as a matrix of shape (W.shape[dim], -1). Power iteration keeps
estimates u, v of its leading singular vectors:

    v <- normalize(Wᵀ u),   u <- normalize(W v)       (normalize(x) = x / max(‖x‖, eps))

run ``n_power_iterations`` times before every forward in training mode only, on raw
arrays without gradient. The layer then uses W / σ with σ = uᵀ W v, differentiable in W
with u and v held constant. The original weight becomes the Parameter ``<name>_orig``;
u and v are the persistent buffers ``<name>_u`` and ``<name>_v`` (saved in state dicts).
"""
from __future__ import annotations

from minigrad import backend, ops
from minigrad.autograd import no_grad
from minigrad.nn.conv import ConvTranspose2d
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor


def _normalize(xp, x, eps: float):
    """x / max(‖x‖, eps), computed on the device (no host sync: the max is an array op)."""
    return x / xp.maximum(xp.linalg.norm(x), eps)


class SpectralNorm:
    """The forward pre-hook that recomputes ``module.<name>`` = W / σ(W) before each forward."""

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12):
        if n_power_iterations < 0:
            raise ValueError(f"spectral_norm: n_power_iterations must be non-negative, got {n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """W permuted so that `dim` comes first, then flattened to (W.shape[dim], -1)."""
        if self.dim != 0:
            weight = ops.permute(weight, (self.dim,) + tuple(d for d in range(weight.ndim) if d != self.dim))
        return ops.reshape(weight, (weight.shape[0], -1))

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        """W / σ with σ = uᵀ W v; with `do_power_iteration` the buffers u, v are updated first, in place."""
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            self._power_iteration(matrix.data, u.data, v.data)
        xp = backend.array_module(u.data)  # array calls, not methods: a captured step records them
        u_const, v_const = Tensor._make(xp.copy(u.data), False), Tensor._make(xp.copy(v.data), False)
        sigma = ops.sum(u_const * ops.matmul(matrix, v_const))
        return weight / sigma

    def _power_iteration(self, w, u, v) -> None:
        xp = backend.array_module(w)
        for _ in range(self.n_power_iterations):
            xp.copyto(v, _normalize(xp, w.T @ u, self.eps))
            xp.copyto(u, _normalize(xp, w @ v, self.eps))

    def __call__(self, module: Module, inputs) -> None:
        object.__setattr__(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        object.__delattr__(module, self.name)
        delattr(module, self.name + "_orig")
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        module.register_parameter(self.name, Parameter(weight.detach()))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"spectral_norm: {name!r} of {type(module).__name__} is already spectrally normalized"
                )
        weight = module._parameters.get(name)
        if not isinstance(weight, Parameter):
            raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter named {name!r}")
        if not -weight.ndim <= dim < max(weight.ndim, 1):
            raise ValueError(f"spectral_norm: dim {dim} is out of range for weight of shape {weight.shape}")
        fn = SpectralNorm(name, n_power_iterations, dim % weight.ndim, eps)
        matrix = fn.reshape_weight_to_matrix(weight.detach())
        h, w = matrix.shape
        xp, gen = backend.array_module(matrix.data), backend.generator(weight.device)
        u = _normalize(xp, gen.standard_normal(h, dtype=weight.dtype), eps)
        v = _normalize(xp, gen.standard_normal(w, dtype=weight.dtype), eps)
        del module._parameters[name]
        module.register_parameter(name + "_orig", weight)
        object.__setattr__(module, name, weight.detach())
        module.register_buffer(name + "_u", Tensor._make(u, False))
        module.register_buffer(name + "_v", Tensor._make(v, False))
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Spectrally normalize ``module.<name>`` in place and return the module.

    `dim` is the output dimension of the weight: 1 for ConvTranspose layers (whose weight is
    (in, out, kH, kW)), 0 otherwise.
    """
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose2d) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo `spectral_norm`: ``module.<name>`` becomes a Parameter holding the current W / σ."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"remove_spectral_norm: spectral_norm of {name!r} not found in {type(module).__name__}")
