"""`modelplane.client.__all__` lists exactly the package's public names (as httpx checks)."""

from __future__ import annotations

import inspect

import modelplane.client as sdk


def test_all_lists_every_public_name_sorted() -> None:
    public = [
        name
        for name, value in vars(sdk).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    ]
    assert sdk.__all__ == sorted(public, key=str.casefold)


def test_every_exported_name_is_documented() -> None:
    for name in sdk.__all__:
        assert inspect.getdoc(getattr(sdk, name)), name


def test_error_classes_derive_from_the_base() -> None:
    for name in sdk.__all__:
        value = getattr(sdk, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, sdk.ModelplaneError), name
