"""The public API: every name resolves, and importing a submodule never shadows one."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import analytics


def test_every_public_name_resolves_to_what_it_names():
    for module in pkgutil.iter_modules(analytics.__path__):
        importlib.import_module(f"analytics.{module.name}")
    for name in analytics.__all__:
        value = getattr(analytics, name)
        assert not isinstance(value, type(analytics)), f"analytics.{name} is a module"
    assert callable(analytics.load) and callable(analytics.reconcile)
    assert analytics.DATASETS[0] == "sources"


def test_import_stays_light():
    code = (
        "import sys, analytics; heavy = {'pandera', 'great_expectations', 'altair', "
        "'nbconvert', 'nbclient', 'pooch', 'numpy', 'vl_convert'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_all_lists_every_name_of_the_type_checking_block():
    assert set(analytics.__all__) == set(analytics._lazy_names()) | {"__version__"}


def test_loading_a_verified_release_imports_no_validation_library():
    code = (
        "import sys, analytics; analytics.load('approvals'); analytics.scan('chips'); "
        "heavy = {'pandera', 'great_expectations', 'altair', 'nbconvert', 'pandas'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
