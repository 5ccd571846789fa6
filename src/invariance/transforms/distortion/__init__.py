"""Non-rigid geometric transforms: dense maps move every target."""

from invariance.transforms.distortion.cells import Morphological, RandomGridShuffle
from invariance.transforms.distortion.meshes import GridElasticDeform, PiecewiseAffine, ThinPlateSpline
from invariance.transforms.distortion.warps import ElasticTransform, GridDistortion, OpticalDistortion
from invariance.transforms.distortion.waves import PixelSpread, WaterRefraction

__all__: list[str] = [
    "ElasticTransform",
    "GridDistortion",
    "GridElasticDeform",
    "Morphological",
    "OpticalDistortion",
    "PiecewiseAffine",
    "PixelSpread",
    "RandomGridShuffle",
    "ThinPlateSpline",
    "WaterRefraction",
]
