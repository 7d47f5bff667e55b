"""The type stubs match the native module, and the package type-checks strictly."""

import pathlib
import subprocess
import sys

import aims


def run(*args):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=300)


def test_stubs_match_the_native_module():
    result = run("mypy.stubtest", "aims._native")
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_is_typed_and_strict_clean():
    package = pathlib.Path(aims.__file__).parent
    assert (package / "py.typed").exists() and (package / "_native.pyi").exists()
    result = run("mypy", "--strict", "--no-incremental", "-p", "aims")
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_api_has_docstrings():
    missing = []
    for name in aims.__all__:
        obj = getattr(aims, name)
        if name.startswith("__"):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        for attr, member in vars(obj).items() if isinstance(obj, type) else []:
            if not attr.startswith("_") and callable(member) and not (member.__doc__ or "").strip():
                missing.append(f"{name}.{attr}")
    assert missing == []
