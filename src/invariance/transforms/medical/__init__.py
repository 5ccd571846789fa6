"""Scanner artefacts of medical imaging, modelled from the physics that makes them."""

from invariance.transforms.medical.mri import BiasField, GibbsRinging, KSpaceSpikeNoise, RicianNoise

__all__ = ["BiasField", "GibbsRinging", "KSpaceSpikeNoise", "RicianNoise"]
