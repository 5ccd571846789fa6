"""PyTorch helpers (optional extra: ``pip install invariance[torch]``). Importing this module imports torch."""

from invariance.pytorch.transforms import ToTensorV2

__all__ = ["ToTensorV2"]
