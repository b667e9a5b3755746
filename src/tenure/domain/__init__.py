"""Tenure's pure domain: the lifecycle rules, with no I/O and no framework.

Only the standard library may be imported here (import-linter's contract in pyproject.toml
and tests/unit/test_domain_is_pure.py guard it),
so every rule can be tested without a database and read in one place.
"""
