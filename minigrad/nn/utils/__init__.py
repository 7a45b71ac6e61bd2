"""Layer utilities: spectral normalisation."""
from minigrad.nn.utils.spectral_norm import SpectralNorm, remove_spectral_norm, spectral_norm

__all__ = ["SpectralNorm", "remove_spectral_norm", "spectral_norm"]
