"""Testing aids shipped with minigrad.

- `minigrad.testing.cupy_standin`: a strict CuPy stand-in that runs minigrad's CUDA path on the CPU and
  records every host sync, host-to-device copy and kernel launch, so a training step can be checked for
  host syncs on a machine without a GPU.
"""
