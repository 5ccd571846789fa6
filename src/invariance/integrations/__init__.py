"""Bridges to other libraries, each an optional extra imported only when its module is imported.

- :mod:`invariance.integrations.torch`: a PyTorch ``Dataset`` wrapper and collate functions
  (``pip install invariance[torch]``).
- :mod:`invariance.integrations.torchvision`: ``tv_tensors`` adapters and a ``transforms.v2``
  wrapper (``invariance[torchvision]``).
- :mod:`invariance.integrations.hf`: ``set_transform`` helpers for Hugging Face ``datasets``
  (``invariance[hf]``).
- :mod:`invariance.integrations.ray`: offline augmentation on Ray Data (``invariance[ray]``).

Importing this package imports none of them.
"""

from __future__ import annotations

import importlib
from typing import Any


def require(module: str, extra: str) -> Any:
    """Import ``module`` or raise an ImportError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{module} is needed here but is not installed: pip install 'invariance[{extra}]'"
        ) from error
