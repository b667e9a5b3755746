"""Tenure's pure domain: the lifecycle rules, with no I/O and no framework.

Only the standard library may be imported here (ruff's banned-api guards it),
so every rule can be tested without a database and read in one place.
"""
