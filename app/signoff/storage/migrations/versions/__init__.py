"""One module per schema revision, in order (see ``signoff.storage.migrate``)."""
