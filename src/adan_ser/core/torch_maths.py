"""Elementwise maths that stays on torch's own kernels.

On CPU torch hands ``sqrt``, ``exp``, ``log``, ``acos``, ``cos``, ``sin``, ``tanh`` and a few more of
contiguous float tensors to MKL's vector maths (VML). ``MKL_CBWR`` does not pin those on every CPU:
VML's ``vmsSqrt``, which is not correctly rounded, differs between an AMD EPYC and an Intel Xeon
in the last bit of about one value in a million (docs/reproducibility.md). The functions here give
the same values from torch's own kernels, which ``ATEN_CPU_CAPABILITY`` pins.
"""

from __future__ import annotations

import torch


def sqrt_positive(x: torch.Tensor) -> torch.Tensor:
    """√x for x > 0 (any shape) as x·rsqrt(x): ``rsqrt`` is torch's own kernel, ``sqrt`` is VML's.

    Not for x = 0 (0·∞); callers clamp away from it, which the gradient needs anyway.
    """
    return x * torch.rsqrt(x)


#: The VML functions the torch models may still reach: seen identical on an Intel Xeon and an AMD
#: EPYC, on ADAN's ``tanh`` training (the demo's synthetic sets) and on the ``log`` of the demo's
#: spectrograms (19 M values). ``tests/test_kernels.py`` checks that no fit calls any other.
VML_SHARED = ("vmsTanh", "vmsLn")
