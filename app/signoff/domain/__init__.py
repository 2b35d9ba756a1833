"""The domain: entities, value objects, state machines and errors of Signoff.

Pure Python (standard library and typing only), so every other layer can depend on it and it can be
tested without a database, Qt or numpy.
"""
