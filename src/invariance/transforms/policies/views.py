"""Several independently augmented views of one sample (SimCLR / BYOL pairs, DINO multi-crop).

Each view runs its own pipeline with its own random draws, on its own copy of the targets; the
draws of all views come from one Generator, so a seeded :class:`MultiView` reproduces every view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from invariance.core.compose import BaseCompose, Compose
from invariance.core.errors import InputError, ParameterError, describe
from invariance.core.randomness import RandomStream
from invariance.core.transform import BasicTransform


def _as_pipeline(owner: str, where: str, value: Any) -> Compose:
    if isinstance(value, Compose):
        return value
    if isinstance(value, (BasicTransform, BaseCompose, list, tuple)):
        return Compose(value if isinstance(value, (list, tuple)) else [value])
    raise ParameterError(
        f"{owner}: {where} = {describe(value)} is invalid: expected a Compose, a transform or a list"
    )


def run_with(pipeline: Compose, rng: np.random.Generator, data: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``pipeline`` on ``data`` with the Generator ``rng`` instead of its own stream."""
    call = pipeline.begin(data)
    pipeline.run(call, rng)
    call.finish()
    return call.output(data)


class MultiView:
    """Produce ``n_views`` independently augmented views of one sample.

    ``MultiView(pipeline, n_views=2)`` runs the same pipeline twice with different random draws
    (SimCLR pairs); ``MultiView([strong, weak])`` runs one pipeline per view (BYOL's asymmetric
    views). Calling it returns a list of output dicts, one per view, each with its own copy of
    every target (image, masks, boxes and labels, keypoints). Other inputs are passed through.

    Args:
        pipelines: one pipeline (a Compose, a transform or a list of transforms) for every view, or
            a list of Compose, one per view.
        n_views: number of views; with a list of pipelines it must equal their number (or be None).
            Default: None (2 views of one pipeline, or one view per pipeline).
        seed: seed of the views' Generator; the same seed gives the same views. Default: None.
    """

    def __init__(self, pipelines: Any, n_views: int | None = None, seed: int | None = None) -> None:
        owner = type(self).__name__
        if (
            isinstance(pipelines, (list, tuple))
            and pipelines
            and all(isinstance(p, Compose) for p in pipelines)
        ):
            chosen = list(pipelines)
            if n_views is not None and n_views != len(chosen):
                raise ParameterError(
                    f"{owner}: argument 'n_views' = {n_views} does not match the {len(chosen)} pipelines given"
                )
        else:
            n_views = 2 if n_views is None else n_views
            if isinstance(n_views, bool) or not isinstance(n_views, int) or n_views < 1:
                raise ParameterError(
                    f"{owner}: argument 'n_views' = {describe(n_views)} is invalid: expected an integer >= 1"
                )
            chosen = [_as_pipeline(owner, "pipelines", pipelines)] * n_views
        self.pipelines: list[Compose] = chosen
        self.seed = seed
        self._stream = RandomStream(seed)

    @property
    def n_views(self) -> int:
        return len(self.pipelines)

    def set_random_seed(self, seed: int | None) -> None:
        self.seed = seed
        self._stream = RandomStream(seed)

    def _seeds(self) -> list[int]:
        rng = self._stream.generator()
        return [int(s) for s in rng.integers(0, 2**63 - 1, size=self.n_views)]

    def __call__(self, *args: Any, **data: Any) -> list[dict[str, Any]]:
        if args:
            raise InputError("pass data as named arguments, for example views(image=image)")
        return [
            run_with(pipeline, np.random.default_rng(seed), data)
            for pipeline, seed in zip(self.pipelines, self._seeds())
        ]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_views={self.n_views}, seed={self.seed!r})"


class MultiCrop(MultiView):
    """DINO-style multi-crop: ``n_global`` views from ``global_pipeline`` followed by ``n_local``
    views from ``local_pipeline`` (usually smaller crops), as one list.

    Args:
        global_pipeline: pipeline of the global views (a Compose, a transform or a list).
        local_pipeline: pipeline of the local views.
        n_global: number of global views, >= 1. Default: 2.
        n_local: number of local views, >= 0. Default: 6.
        seed: seed of the views' Generator. Default: None.
    """

    def __init__(
        self,
        global_pipeline: Any,
        local_pipeline: Any,
        n_global: int = 2,
        n_local: int = 6,
        seed: int | None = None,
    ) -> None:
        owner = type(self).__name__
        for name, value, low in (("n_global", n_global, 1), ("n_local", n_local, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ParameterError(
                    f"{owner}: argument {name!r} = {describe(value)} is invalid: expected an integer >= {low}"
                )
        glob = _as_pipeline(owner, "global_pipeline", global_pipeline)
        local = _as_pipeline(owner, "local_pipeline", local_pipeline)
        super().__init__([glob] * n_global + [local] * n_local, n_views=None, seed=seed)
        self.n_global, self.n_local = n_global, n_local

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_global={self.n_global}, n_local={self.n_local}, seed={self.seed!r})"


def dino_multicrop(
    global_size: int = 224,
    local_size: int = 96,
    n_local: int = 6,
    global_scale: Sequence[float] = (0.4, 1.0),
    local_scale: Sequence[float] = (0.05, 0.4),
    extra: Sequence[Any] = (),
    seed: int | None = None,
) -> MultiCrop:
    """A ready DINO multi-crop: 2 global crops of ``global_size`` and ``n_local`` local crops of
    ``local_size`` (RandomResizedCrop with the given scale ranges and a horizontal flip, then the
    transforms in ``extra``, e.g. colour jitter and blur)."""
    from invariance.transforms.geometric import HorizontalFlip, RandomResizedCrop

    def build(size: int, scale: Sequence[float]) -> Compose:
        return Compose(
            [RandomResizedCrop(size=(size, size), scale=tuple(scale), p=1.0), HorizontalFlip(p=0.5), *extra]
        )

    return MultiCrop(build(global_size, global_scale), build(local_size, local_scale), 2, n_local, seed)
