"""Helpers shared by several test modules: each has one definition here instead of a copy per module."""
