"""Helpers for tests/test_state_machine.py: request-body strategies and the model."""
