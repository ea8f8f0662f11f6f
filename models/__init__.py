"""ECIF operational store (SQLAlchemy models). Built by the store issue."""
