"""One module per page of the main window; each page takes the ``AppContext`` and listens to it."""
