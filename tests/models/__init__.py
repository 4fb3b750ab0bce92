"""Canonical example documents shared by the tests, one small module per domain."""
