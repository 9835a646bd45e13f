import pytest
import torch

import pvt_mm  # noqa: F401  (registers the backbones, applies the compat fixes)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
