"""Scanner artefacts of medical imaging, modelled from the physics that makes them."""

from invariance.transforms.medical.acquisition import GhostingArtifact, MotionArtifact
from invariance.transforms.medical.mri import (
    Anisotropy3D,
    BiasField,
    GibbsRinging,
    KSpaceSpikeNoise,
    RicianNoise,
)

__all__ = [
    "Anisotropy3D",
    "BiasField",
    "GhostingArtifact",
    "GibbsRinging",
    "KSpaceSpikeNoise",
    "MotionArtifact",
    "RicianNoise",
]
