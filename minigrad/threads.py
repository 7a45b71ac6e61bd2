"""How many threads the CPU's BLAS and OpenMP libraries use (NumPy's OpenBLAS, SciPy's, MKL, ...).

minigrad's CPU time is mostly NumPy's GEMMs, which run on the BLAS library's own thread pool.
`set_num_threads(n)` sets that pool (and any OpenMP pool loaded in the process) to n threads,
as ``torch.set_num_threads`` does for PyTorch; `get_num_threads()` reads it back. Both go
through threadpoolctl (installed with scikit-learn, or ``pip install threadpoolctl``), imported
only when called. The BLAS kernel choice (``OPENBLAS_CORETYPE`` and the like) is left alone.
"""
from __future__ import annotations


def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError:
        raise ImportError("set_num_threads/get_num_threads need threadpoolctl: pip install threadpoolctl") from None
    return threadpoolctl


def set_num_threads(n: int) -> None:
    """Use `n` threads (n >= 1) in every BLAS and OpenMP library loaded in this process, from now on."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer number of threads, got {n!r}")
    _threadpoolctl().threadpool_limits(limits=n)


def get_num_threads() -> int:
    """The thread count of the loaded BLAS libraries (the largest, if several; 1 when none is loaded)."""
    info = _threadpoolctl().threadpool_info()
    counts = [pool["num_threads"] for pool in info if pool.get("user_api") == "blas"]
    return max(counts) if counts else 1
