"""Weather, scene and lighting transforms."""

from invariance.transforms.weather.lighting import (
    HEStain,
    Illumination,
    PlasmaBrightnessContrast,
    PlasmaShadow,
)
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
    "HEStain",
    "Illumination",
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
