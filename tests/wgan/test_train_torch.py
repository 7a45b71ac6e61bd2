"""Cross-check of whole training steps on multi-layer ReLU MLPs against PyTorch (skipped without torch).

The same weights, data, noise and interpolation coefficients go through `Trainer.critic_step` /
`generator_step` and through the same algorithm written in PyTorch; the updated parameters must agree.
"""
import numpy as np
import pytest

from wgan import TrainConfig, Trainer

torch = pytest.importorskip("torch")


def _torch_mlp(module):
    layers = []
    for m in module.net:
        name = type(m).__name__
        if name == "Linear":
            lin = torch.nn.Linear(m.in_features, m.out_features).double()
            w = m.weight_orig if hasattr(m, "weight_orig") else m.weight
            with torch.no_grad():
                lin.weight.copy_(torch.tensor(w.numpy()))
                lin.bias.copy_(torch.tensor(m.bias.numpy()))
            if hasattr(m, "weight_orig"):
                lin = torch.nn.utils.spectral_norm(lin)
                lin.weight_u.copy_(torch.tensor(m.weight_u.numpy()))
                lin.weight_v.copy_(torch.tensor(m.weight_v.numpy()))
            layers.append(lin)
        else:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def _torch_params(net):
    return [p for n, p in net.named_parameters()]


def _optimizer(cfg, params, lr):
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, betas=cfg.betas)
    return torch.optim.RMSprop(params, lr=lr, alpha=cfg.rmsprop_alpha, eps=cfg.rmsprop_eps)


@pytest.mark.parametrize("algorithm", ["wgan-gp", "wgan-lp", "wgan-clip", "sngan", "gan"])
def test_two_iterations_match_pytorch(algorithm):
    trainer = Trainer(TrainConfig(algorithm=algorithm, preset="toy", width=16, depth=2, batch_size=8, seed=1,
                                  gp_lambda=None))
    cfg = trainer.config
    trainer.generator.double(), trainer.critic.double()  # float64 on both sides: differences are the algorithm's
    G, D = _torch_mlp(trainer.generator), _torch_mlp(trainer.critic)
    opt_g, opt_d = _optimizer(cfg, G.parameters(), cfg.lr_g), _optimizer(cfg, D.parameters(), cfg.lr_d)
    rng = np.random.default_rng(0)
    for _ in range(2):
        real, z, z2 = (rng.normal(size=(8, 2)) for _ in range(3))
        eps = rng.random((8, 1))
        trainer.critic_step(real, z, eps if cfg.penalty != "none" else None)
        trainer.generator_step(z2)
        # the same in PyTorch (float64)
        r, zz, zz2, e = (torch.tensor(a, dtype=torch.float64) for a in (real, z, z2, eps))
        with torch.no_grad():
            fake = G(zz)
        out = D(torch.cat([r, fake]))[:, 0]
        d_real, d_fake = out[:8], out[8:]
        if cfg.loss == "wgan":
            loss = d_fake.mean() - d_real.mean()
        elif cfg.loss == "hinge":
            loss = torch.relu(1 - d_real).mean() + torch.relu(1 + d_fake).mean()
        else:
            loss = torch.nn.functional.softplus(-d_real).mean() + torch.nn.functional.softplus(d_fake).mean()
        if cfg.penalty != "none":
            x_hat = (e * r + (1 - e) * fake).requires_grad_(True)
            (g,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
            excess = torch.sqrt((g * g).sum(1) + cfg.gp_eps) - 1
            if cfg.penalty == "one-sided":
                excess = torch.relu(excess)
            loss = loss + cfg.gp_lambda * (excess ** 2).mean()
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        if cfg.clip > 0:
            with torch.no_grad():
                for p in D.parameters():
                    p.clamp_(-cfg.clip, cfg.clip)
        d_out = D(G(zz2))[:, 0]
        g_loss = torch.nn.functional.softplus(-d_out).mean() if cfg.loss == "gan" else -d_out.mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    ours = [p.numpy() for p in list(trainer.generator.parameters()) + list(trainer.critic.parameters())]
    theirs = [p.detach().numpy() for p in _torch_params(G) + _torch_params(D)]
    names = [n for n, _ in trainer.generator.named_parameters()] + [n for n, _ in trainer.critic.named_parameters()]
    for name, a, b in zip(names, ours, theirs):
        if cfg.loss == "wgan" and name == "net.6.bias":
            continue  # its gradient is exactly 0: rounding noise gets a full normalised step in both frameworks
        np.testing.assert_allclose(a, b.reshape(a.shape), rtol=1e-9, atol=1e-12, err_msg=name)
