"""reporting layer (see docs/architecture.md)."""
