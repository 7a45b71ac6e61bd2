"""Write docs/options.md, the table of `wgan train`'s options, from their declarations (`wgan.cli.options_page`).

    python3 scripts/make_options_page.py
"""
from pathlib import Path

from wgan.cli import options_page

if __name__ == "__main__":
    path = Path(__file__).resolve().parents[1] / "docs" / "options.md"
    path.write_text(options_page())
    print(f"wrote {path}")
