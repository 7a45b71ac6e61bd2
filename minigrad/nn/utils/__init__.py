"""Layer utilities: spectral normalisation, parameter clamping."""
from minigrad.nn.utils.clamp import clamp_parameters_
from minigrad.nn.utils.spectral_norm import SpectralNorm, remove_spectral_norm, spectral_norm

__all__ = ["SpectralNorm", "clamp_parameters_", "remove_spectral_norm", "spectral_norm"]
