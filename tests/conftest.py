"""Shared test setup: Qt runs offscreen; nothing reads the developer's own settings or database."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
