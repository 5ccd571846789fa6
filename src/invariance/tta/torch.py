"""A thin PyTorch adapter: an ``nn.Module`` on NCHW tensors as a model on numpy NHWC batches.

torch is imported only when a :class:`TorchModel` is made (install ``invariance[torch]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from invariance.core.errors import ParameterError


class TorchModel:
    """Call ``module`` on numpy ``(N, H, W, C)`` batches; return numpy outputs.

    The batch becomes a float32 ``(N, C, H, W)`` tensor (uint8 images are divided by 255 when
    ``scale_uint8``), runs under ``torch.no_grad()`` on ``device``, and each output tensor comes back
    as a numpy array; with ``channels_last_output`` a 4-D output ``(N, C, H, W)`` is returned as
    ``(N, H, W, C)`` (so :meth:`TTA.segment` can use its default ``NHWC`` layout). Tuples, lists and
    dicts of tensors are converted element by element.
    """

    def __init__(
        self,
        module: Any,
        device: str | None = None,
        scale_uint8: bool = True,
        channels_last_output: bool = False,
    ) -> None:
        try:
            import torch
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ParameterError("TorchModel needs PyTorch: pip install 'invariance[torch]'") from error
        self._torch = torch
        self.module = module
        self.device = device or "cpu"
        self.scale_uint8 = scale_uint8
        self.channels_last_output = channels_last_output

    def __call__(self, batch: np.ndarray) -> Any:
        torch = self._torch
        array = np.asarray(batch)
        if array.ndim != 4:
            raise ParameterError(f"TorchModel: expected an (N, H, W, C) batch, got shape {array.shape}")
        floats = (
            array.astype(np.float32) / 255.0
            if (array.dtype == np.uint8 and self.scale_uint8)
            else array.astype(np.float32)
        )
        tensor = torch.from_numpy(np.ascontiguousarray(floats.transpose(0, 3, 1, 2))).to(self.device)
        with torch.no_grad():
            output = self.module(tensor)
        return self._to_numpy(output)

    def _to_numpy(self, output: Any) -> Any:
        if isinstance(output, self._torch.Tensor):
            array = output.detach().cpu().numpy()
            if self.channels_last_output and array.ndim == 4:
                array = np.moveaxis(array, 1, -1)
            return array
        if isinstance(output, dict):
            return {k: self._to_numpy(v) for k, v in output.items()}
        if isinstance(output, (list, tuple)):
            return type(output)(self._to_numpy(v) for v in output)
        return output
