"""Alembic migrations of the Signoff schema, shipped inside the package and applied on open."""
