"""The desktop window opens for real (offscreen) and can be captured."""

from signoff.ui.main_window import MainWindow


def test_main_window_shows_and_renders(qtbot, tmp_path):
    window = MainWindow(db_url="sqlite:///:memory:")
    qtbot.addWidget(window)
    window.show()
    path = tmp_path / "window.png"
    assert window.grab().save(str(path))
    assert path.stat().st_size > 1000
    assert window.windowTitle() == "Signoff"
