"""PyTorch helpers (optional extra: ``pip install invariance[torch]``). Importing this module imports torch."""

from invariance.pytorch.transforms import ToTensor3D, ToTensorV2

__all__ = ["ToTensor3D", "ToTensorV2"]
