"""JAX twins of the benchmark workloads and core cases: the fastest CPU engine a user could pick instead.

Imported only in a JAX contender's own process (`harness`): JAX is an optional peer, like torch, and never a
dependency of the package. Everything here is plain `jax.numpy` and `jax.lax`, no optax or flax:

- the networks are read off the minigrad modules layer by layer (Linear, Conv2d, ConvTranspose2d, ReLU,
  LeakyReLU, Tanh, Flatten, Unflatten) and start from *their* weights, named as minigrad names them;
- one training iteration (n_critic critic steps, each with the gradient penalty or the weight clipping, then
  one generator step) is one `jax.jit` function of (parameters, optimizer state, the iteration's data), its
  state buffers donated, so XLA updates them in place;
- Adam and RMSprop are written out with PyTorch's formulas (eps outside the square root, bias correction as
  ``torch.optim.Adam``), so that after one iteration the parameters agree with minigrad's and torch's.
"""
from __future__ import annotations

import numpy as np


def _jax():
    import jax
    import jax.numpy as jnp

    return jax, jnp


def network(module) -> tuple[list[tuple], dict]:
    """(layers, parameters) of a minigrad ``nn.Sequential``: layers as (kind, index, options), parameters as
    float32 arrays keyed as minigrad's ``named_parameters`` ("0.weight", ...)."""
    import minigrad.nn as nn

    layers = []
    for index, layer in enumerate(module):
        if isinstance(layer, nn.Linear):
            layers.append(("linear", index, {}))
        elif isinstance(layer, nn.ConvTranspose2d):
            layers.append(("conv_transpose", index, {"stride": layer.stride, "padding": layer.padding}))
        elif isinstance(layer, nn.Conv2d):
            layers.append(("conv", index, {"stride": layer.stride, "padding": layer.padding}))
        elif isinstance(layer, nn.ReLU):
            layers.append(("relu", index, {}))
        elif isinstance(layer, nn.LeakyReLU):
            layers.append(("leaky_relu", index, {"slope": layer.negative_slope}))
        elif isinstance(layer, nn.Tanh):
            layers.append(("tanh", index, {}))
        elif isinstance(layer, nn.Flatten):
            layers.append(("flatten", index, {}))
        elif isinstance(layer, nn.Unflatten):
            layers.append(("unflatten", index, {"shape": tuple(layer.unflattened_size)}))
        else:
            raise TypeError(f"jax_peer.network: no JAX twin for layer {index} ({type(layer).__name__})")
    params = {name: np.array(p.numpy(), dtype=np.float32) for name, p in module.named_parameters()}
    return layers, params


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def forward(layers: list[tuple], params: dict, x, channels_last: bool = False):
    """The network on x. Parameters in PyTorch's layouts (a convolution's weight (out, in, kh, kw), a transposed
    convolution's (in, out, kh, kw)); images NCHW, or NHWC with ``channels_last`` (XLA's own CPU layout: the
    weights are transposed inside the jitted function, Flatten/Unflatten keep PyTorch's (C, H, W) order)."""
    jax, jnp = _jax()
    lax = jax.lax
    dims = ("NHWC", "HWIO", "NHWC") if channels_last else ("NCHW", "OIHW", "NCHW")

    def kernel(w):  # OIHW -> the layout of `dims`
        return w.transpose(2, 3, 1, 0) if channels_last else w

    def bias(b):
        return b if channels_last else b[None, :, None, None]

    for kind, i, opt in layers:
        if kind == "linear":
            x = x @ params[f"{i}.weight"].T + params[f"{i}.bias"]
        elif kind == "conv":
            (ph, pw) = _pair(opt["padding"])
            x = lax.conv_general_dilated(x, kernel(params[f"{i}.weight"]), _pair(opt["stride"]),
                                         ((ph, ph), (pw, pw)), dimension_numbers=dims) + bias(params[f"{i}.bias"])
        elif kind == "conv_transpose":  # the input-gradient of a convolution: dilate x, flip and swap the kernel
            w = params[f"{i}.weight"]
            kh, kw = w.shape[2:]
            (ph, pw) = _pair(opt["padding"])
            flipped = jnp.flip(w, (2, 3)).transpose(1, 0, 2, 3)
            x = lax.conv_general_dilated(x, kernel(flipped), (1, 1),
                                         ((kh - 1 - ph, kh - 1 - ph), (kw - 1 - pw, kw - 1 - pw)),
                                         lhs_dilation=_pair(opt["stride"]), dimension_numbers=dims)
            x = x + bias(params[f"{i}.bias"])
        elif kind == "relu":
            x = jax.nn.relu(x)
        elif kind == "leaky_relu":
            x = jnp.where(x > 0, x, opt["slope"] * x)
        elif kind == "tanh":
            x = jnp.tanh(x)
        elif kind == "flatten":
            x = (x.transpose(0, 3, 1, 2) if channels_last and x.ndim == 4 else x).reshape(x.shape[0], -1)
        elif kind == "unflatten":
            x = x.reshape((x.shape[0],) + opt["shape"])
            x = x.transpose(0, 2, 3, 1) if channels_last else x
    return x


# ----------------------------------------------------------------------------- optimizers, as torch.optim
def adam_init(params: dict) -> dict:
    _, jnp = _jax()
    return {"m": {k: jnp.zeros_like(v) for k, v in params.items()},
            "v": {k: jnp.zeros_like(v) for k, v in params.items()}, "t": jnp.zeros((), jnp.float32)}


def adam_step(params: dict, grads: dict, state: dict, lr: float, betas: tuple[float, float], eps: float = 1e-8):
    """torch.optim.Adam: p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)."""
    _, jnp = _jax()
    b1, b2 = betas
    t = state["t"] + 1
    m = {k: b1 * state["m"][k] + (1 - b1) * g for k, g in grads.items()}
    v = {k: b2 * state["v"][k] + (1 - b2) * g * g for k, g in grads.items()}
    step_size = lr / (1 - b1 ** t)
    root_bc2 = jnp.sqrt(1 - b2 ** t)
    new = {k: p - step_size * m[k] / (jnp.sqrt(v[k]) / root_bc2 + eps) for k, p in params.items()}
    return new, {"m": m, "v": v, "t": t}


def rmsprop_init(params: dict) -> dict:
    _, jnp = _jax()
    return {"v": {k: jnp.zeros_like(v) for k, v in params.items()}}


def rmsprop_step(params: dict, grads: dict, state: dict, lr: float, alpha: float = 0.99, eps: float = 1e-8):
    """torch.optim.RMSprop: v = a v + (1 - a) g², p -= lr g / (sqrt(v) + eps)."""
    _, jnp = _jax()
    v = {k: alpha * state["v"][k] + (1 - alpha) * g * g for k, g in grads.items()}
    new = {k: p - lr * grads[k] / (jnp.sqrt(v[k]) + eps) for k, p in params.items()}
    return new, {"v": v}


# ----------------------------------------------------------------------------- one WGAN iteration
class JaxWorkload:
    """A `bench_workloads.Workload` (kind A, B or C) as one jitted JAX iteration, from its minigrad twin's
    weights and data: the iteration's 6 (real, z, eps) batches are the same ones, in the same order."""

    def __init__(self, twin, channels_last: bool = True):
        jax, jnp = _jax()
        self.jax = jax
        self.n_critic, self.gp_lambda, self.clip, self.kind = twin.n_critic, twin.gp_lambda, twin.clip, twin.kind
        g_layers, g_params = network(twin.G)
        d_layers, d_params = network(twin.D)
        if self.kind == "B":
            init, self.opt = rmsprop_init, dict(rule=rmsprop_step, lr=5e-5)
        else:
            betas = (0.5, 0.9) if self.kind == "A" else (0.0, 0.9)
            init, self.opt = adam_init, dict(rule=adam_step, lr=1e-4, betas=betas)
        self.state = (jax.device_put(g_params), jax.device_put(d_params), init(g_params), init(d_params))
        steps = self.n_critic + 1  # the data of one iteration: each step draws the next of the 8 batches
        self.phases = []
        for phase in range(4):  # lcm(6, 8) = 24 steps: four iterations, then the data repeats
            ks = [(phase * steps + i) % 8 for i in range(steps)]
            real = np.stack([twin.pool_batches[k] for k in ks])
            if real.ndim == 5 and channels_last:  # (steps, B, C, H, W) -> (steps, B, H, W, C)
                real = np.ascontiguousarray(real.transpose(0, 1, 3, 4, 2))
            self.phases.append(tuple(jax.device_put(a) for a in (real, np.stack([twin.noise[k] for k in ks]),
                                                                 np.stack([twin.eps[k] for k in ks]))))
        self.counter = 0
        G = lambda p, z: forward(g_layers, p, z, channels_last)
        D = lambda p, x: forward(d_layers, p, x, channels_last)
        opt = dict(self.opt)
        rule = opt.pop("rule")
        n_critic, gp_lambda, clip = self.n_critic, self.gp_lambda, self.clip

        def critic_loss(d, real, fake, eps):
            loss = D(d, fake).mean() - D(d, real).mean()
            if gp_lambda:
                xhat = eps * real + (1 - eps) * fake
                g = jax.grad(lambda x: D(d, x).sum())(xhat)
                norm = jnp.sqrt((g * g).reshape(g.shape[0], -1).sum(axis=1) + 1e-12)
                loss = loss + gp_lambda * ((norm - 1) ** 2).mean()
            return loss

        def iteration(state, real, z, eps):
            g, d, opt_g, opt_d = state
            for i in range(n_critic):
                fake = jax.lax.stop_gradient(G(g, z[i]))
                grads = jax.grad(critic_loss)(d, real[i], fake, eps[i])
                d, opt_d = rule(d, grads, opt_d, **opt)
                if clip:
                    d = {k: jnp.clip(v, -clip, clip) for k, v in d.items()}
            grads = jax.grad(lambda g: -D(d, G(g, z[n_critic])).mean())(g)
            g, opt_g = rule(g, grads, opt_g, **opt)
            return g, d, opt_g, opt_d

        self._iteration = jax.jit(iteration, donate_argnums=0)

    def iteration(self) -> None:
        real, z, eps = self.phases[self.counter % 4]
        self.counter += 1
        self.state = self._iteration(self.state, real, z, eps)
        self.jax.block_until_ready(self.state)

    def parameters(self) -> dict[str, np.ndarray]:
        g, d = self.state[:2]
        return {**{f"G.{k}": np.asarray(v) for k, v in g.items()}, **{f"D.{k}": np.asarray(v) for k, v in d.items()}}


# ----------------------------------------------------------------------------- bench_core's cases
def core_cases(x0: np.ndarray, ws: list[np.ndarray], bs: list[np.ndarray], data: np.ndarray) -> dict:
    """bench_core's three cases, each one jitted gradient computation (blocked until ready)."""
    jax, jnp = _jax()
    x = jax.device_put(x0)
    W = [jax.device_put(w) for w in ws]
    B = [jax.device_put(b) for b in bs]
    X = jax.device_put(data)

    def chain(x):
        y = x
        for _ in range(333):
            y = jnp.tanh(y * 1.0001 + 0.001)
        return y.sum()

    def mlp(params, h):
        W, B = params
        for i, (w, b) in enumerate(zip(W, B)):
            h = h @ w.T + b
            if i < len(W) - 1:
                h = jax.nn.relu(h)
        return h

    def penalty(params, xi):
        g = jax.grad(lambda x: mlp(params, x).sum())(xi)
        return ((jnp.sqrt((g * g).sum(axis=1) + 1e-12) - 1) ** 2).mean()

    chain_grad = jax.jit(jax.grad(chain))
    mlp_grad = jax.jit(jax.grad(lambda p, h: mlp(p, h).mean()))
    penalty_grad = jax.jit(jax.grad(penalty))
    return {"chain": lambda: chain_grad(x).block_until_ready(),
            "mlp": lambda: jax.block_until_ready(mlp_grad((W, B), X)),
            "penalty": lambda: jax.block_until_ready(penalty_grad((W, B), X))}
