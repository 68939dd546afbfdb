"""The optimiser every torch model trains with: Adam on torch's fused kernel.

torch's per-tensor Adam takes ``sqrt`` of the second moments with MKL's vector maths (VML), whose
``vmsSqrt`` is not correctly rounded and is not pinned by ``MKL_CBWR``: on an AMD EPYC it differs
from an Intel Xeon's in the last bit of about one value in a million, enough to move a DNN's
predictions between the two machines (docs/reproducibility.md). The fused kernel is torch's own
code (its square root is the exact IEEE one, on the pinned ``ATEN_CPU_CAPABILITY``) and is also
faster on CPU.
"""

from __future__ import annotations

from typing import Iterable

import torch


def adam(params: Iterable[torch.nn.Parameter], lr: float, betas: tuple[float, float] = (0.9, 0.999),
         eps: float = 1e-8, weight_decay: float = 0.0) -> torch.optim.Adam:
    """``torch.optim.Adam`` on the fused kernel; the per-tensor loop only where a device or dtype
    has no fused kernel (then ``foreach`` on CUDA)."""
    params = list(params)
    kwargs = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
    try:
        return torch.optim.Adam(params, fused=True, **kwargs)
    except (RuntimeError, TypeError):  # pragma: no cover - device/dtype without a fused kernel
        on_cuda = any(p.device.type == "cuda" for p in params)
        return torch.optim.Adam(params, foreach=on_cuda, **kwargs)
