"""invariance: fast image augmentation with image, masks, boxes and keypoints moved in lockstep.

Code written for Albumentations 2.x runs after ``import invariance as A``::

    import invariance as A

    pipeline = A.Compose(
        [A.RandomResizedCrop(size=(512, 512), scale=(0.8, 1.0)), A.HorizontalFlip(p=0.5)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        seed=137,
    )
    out = pipeline(image=image, bboxes=boxes, labels=labels)
"""

from typing import Any

from invariance._version import __version__
from invariance.core.budget import Limits, get_limits, set_limits
from invariance.core.compat import DualTransform, ImageOnlyTransform  # Albumentations-style bases
from invariance.core.compose import (
    BaseCompose,
    Compose,
    OneOf,
    OneOrOther,
    RandomOrder,
    ReplayCompose,
    SelectiveChannelTransform,
    Sequential,
    SomeOf,
)
from invariance.core.errors import (
    ImageFileError,
    ImageTooLargeError,
    InputError,
    InputTypeError,
    InvarianceError,
    ParameterError,
    SerializationError,
)
from invariance.core.geometry import Geometry, Resampling
from invariance.core.serialization import diff, fingerprint, from_dict, load, save, to_dict
from invariance.core.targets import BboxParams, KeypointParams
from invariance.core.transform import BasicTransform, PixelTransform, SpatialTransform
from invariance.presets import load_preset
from invariance.pytorch.transforms import ToTensorV2  # torch is imported on first use only
from invariance.transforms import auto as _auto
from invariance.transforms import blur as _blur
from invariance.transforms import distortion as _distortion
from invariance.transforms import domain as _domain
from invariance.transforms import geometric as _geometric
from invariance.transforms import medical as _medical
from invariance.transforms import mixing as _mixing
from invariance.transforms import noise as _noise
from invariance.transforms import occlusion as _occlusion
from invariance.transforms import pixel as _pixel
from invariance.transforms import policies as _policies
from invariance.transforms import sequence as _sequence
from invariance.transforms import utility as _utility
from invariance.transforms import volumetric as _volumetric
from invariance.transforms import weather as _weather
from invariance.transforms.auto import *  # noqa: F403
from invariance.transforms.blur import *  # noqa: F403
from invariance.transforms.distortion import *  # noqa: F403
from invariance.transforms.domain import *  # noqa: F403
from invariance.transforms.geometric import *  # noqa: F403
from invariance.transforms.medical import *  # noqa: F403
from invariance.transforms.mixing import *  # noqa: F403
from invariance.transforms.noise import *  # noqa: F403
from invariance.transforms.occlusion import *  # noqa: F403
from invariance.transforms.pixel import *  # noqa: F403
from invariance.transforms.policies import *  # noqa: F403
from invariance.transforms.sequence import *  # noqa: F403
from invariance.transforms.utility import *  # noqa: F403
from invariance.transforms.volumetric import *  # noqa: F403
from invariance.transforms.weather import *  # noqa: F403

__all__ = [
    "BaseCompose",
    "BasicTransform",
    "BboxParams",
    "Compose",
    "DualTransform",
    "Geometry",
    "ImageFileError",
    "ImageOnlyTransform",
    "ImageTooLargeError",
    "InputError",
    "InputTypeError",
    "InvarianceError",
    "KeypointParams",
    "Limits",
    "OneOf",
    "OneOrOther",
    "ParameterError",
    "PixelTransform",
    "RandomOrder",
    "ReplayCompose",
    "Resampling",
    "SelectiveChannelTransform",
    "Sequential",
    "SerializationError",
    "SomeOf",
    "SpatialTransform",
    "ToTensorV2",
    "__version__",
    "diff",
    "fingerprint",
    "from_dict",
    "get_limits",
    "load",
    "load_preset",
    "save",
    "set_limits",
    "to_dict",
]
# Each family package lists its transforms in its own __all__.
__all__ += _geometric.__all__
__all__ += _auto.__all__
__all__ += _distortion.__all__
__all__ += _pixel.__all__
__all__ += _blur.__all__
__all__ += _noise.__all__
__all__ += _weather.__all__
__all__ += _domain.__all__
__all__ += _occlusion.__all__
__all__ += _mixing.__all__
__all__ += _sequence.__all__
__all__ += _policies.__all__
__all__ += _utility.__all__
__all__ += _volumetric.__all__
__all__ += _medical.__all__


def __getattr__(name: str) -> Any:
    """Names resolved on access (PEP 562): ``A.ToTensorV2`` / ``A.ToTensor3D`` load torch only
    when first asked for; ``RandomErasing`` (torchvision's name for ``Erasing``) is an alias, so
    ``inspect.getmembers(invariance)`` lists each transform class under one name."""
    if name in ("ToTensorV2", "ToTensor3D"):
        from invariance import pytorch

        return getattr(pytorch, name)
    if name == "RandomErasing":
        return Erasing  # noqa: F405
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
