"""Use cases: one function per action, one transaction each.

The API, the console, the worker and the CLI all call these; none of them
writes to the database any other way.
"""
