"""The officials' console in a real browser (a package, so its conftest is not taken for
tests/conftest.py when pytest collects both)."""
