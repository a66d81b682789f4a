"""The examples in the effects docstrings run and give what they show."""

from __future__ import annotations

import doctest

import pytest

import drivervte.effects
import drivervte.effects.transforms


@pytest.mark.parametrize("module", [drivervte.effects, drivervte.effects.transforms])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
