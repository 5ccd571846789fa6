"""Weather, scene and lighting transforms."""

from invariance.transforms.weather.lighting import (
    HEStain,
    Illumination,
    PlasmaBrightnessContrast,
    PlasmaShadow,
)
from invariance.transforms.weather.optics import AtmosphericFog, LensFlare
from invariance.transforms.weather.scene import (
    RandomFog,
    RandomGravel,
    RandomRain,
    RandomShadow,
    RandomSnow,
    RandomSunFlare,
    Spatter,
)

__all__ = [
    "AtmosphericFog",
    "HEStain",
    "Illumination",
    "LensFlare",
    "PlasmaBrightnessContrast",
    "PlasmaShadow",
    "RandomFog",
    "RandomGravel",
    "RandomRain",
    "RandomShadow",
    "RandomSnow",
    "RandomSunFlare",
    "Spatter",
]
