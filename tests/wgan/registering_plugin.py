"""Registers `tests.wgan.sweep_plugin`'s optimizer and dataset by name when imported: what a sweep's
``imports = ["tests.wgan.registering_plugin"]`` does on the client and on every worker."""
from tests.wgan.sweep_plugin import register_all

register_all()
