"""The reports' tests act in the audiences' ward (two schools) through the sandbox."""

from tests.audiences.conftest import any_world  # noqa: F401  (the fixture, shared)
