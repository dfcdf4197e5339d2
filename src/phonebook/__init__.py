"""Phonebook: a self-hostable phone-number service speaking the LGL API v1."""

__version__ = "0.1.0"
API_VERSION = "1.0"
