"""`wgan reproduce robustness`: the architecture draws, the success table, and a --quick run on a local cluster."""
import json

import pytest

from wgan.reproductions.robustness import LOCAL_SPACE, PAPER_SPACE, _config, draw_architectures, success_table


def test_architectures_are_drawn_from_the_space_reproducibly():
    archs = draw_architectures(50, PAPER_SPACE, seed=0)
    assert archs == draw_architectures(50, PAPER_SPACE, seed=0) != draw_architectures(50, PAPER_SPACE, seed=1)
    for key, choices in PAPER_SPACE.items():
        for net in ("g", "d"):
            values = {a[f"{net}_{key}"] for a in archs}
            assert values <= set(choices) and len(values) > 1
    assert draw_architectures(60, LOCAL_SPACE)[:50] == draw_architectures(50, LOCAL_SPACE)


def test_the_critic_norm_follows_the_method():
    arch = dict(draw_architectures(1, PAPER_SPACE)[0], d_norm=True, g_norm=False)
    assert _config(arch, "gan")["critic_norm"] == "batchnorm"
    assert _config(arch, "wgan-gp")["critic_norm"] == "layernorm"
    assert _config(dict(arch, d_norm=False), "wgan-gp")["critic_norm"] == "none"
    assert _config(arch, "gan")["g_norm"] == "none"
    assert {k for k in _config(arch, "gan") if k.startswith(("g_", "d_"))} == \
        {"g_nonlinearity", "d_nonlinearity", "g_depth", "d_depth", "g_filters", "d_filters", "g_norm"}


def test_success_table_counts_each_architecture_once_per_threshold():
    gan = [9.0, 2.0, None, 6.0]
    wgan_gp = [8.5, 7.0, 5.0, None]
    rows = success_table(gan, wgan_gp, ceiling=10.0, thresholds=(0.1, 0.55, 0.95))
    assert [(r["only_gan"], r["only_wgan_gp"], r["both"], r["neither"]) for r in rows] == \
        [(1, 1, 2, 0), (1, 1, 1, 1), (0, 0, 0, 4)]
    assert all(r["only_gan"] + r["only_wgan_gp"] + r["both"] + r["neither"] == 4 for r in rows)
    assert rows[1]["min_score"] == pytest.approx(5.5)


def test_options_of_other_reproductions_are_refused(capsys):
    from wgan import cli

    with pytest.raises(SystemExit):
        cli.main(["reproduce", "lines", "--trials", "3"])
    assert "--trials only apply to `reproduce robustness`" in capsys.readouterr().err


def test_quick_reproduction_writes_the_table_and_figure(tmp_path, capsys):
    pytest.importorskip("distributed")
    from wgan import cli

    assert cli.main(["reproduce", "robustness", "--quick", "--workers", "2", "--out", str(tmp_path)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["table"]) == 5 and result["real_score"] > 5
    text = (tmp_path / "robustness.md").read_text()
    assert "| Min. score | Only GAN | Only WGAN-GP | Both succeeded | Both failed |" in text
    assert (tmp_path / "robustness.png").stat().st_size > 10_000
    assert len(json.loads((tmp_path / "robustness.json").read_text())["scores"]["gan"]) == 2
    assert (tmp_path / "sweep" / "trials" / "0003" / "checkpoint.npz").is_file()  # ordinary run folders
