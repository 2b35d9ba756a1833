"""The time left of a long job is extrapolated from the time it has taken, and not claimed too early."""

from signoff.ui.formatting import time_left


def test_time_left_is_extrapolated_from_the_elapsed_time():
    assert time_left(10.0, 0.25) == "about 30 s left"  # a quarter took 10 s: three quarters take 30 s
    assert time_left(30.0, 0.2) == "about 2 min left"  # 120 s
    assert time_left(0.5, 0.5) == ""  # under a second: too early to say
    assert time_left(20.0, 0.01) == ""  # under 5% done: too early to say
    assert time_left(20.0, 1.0) == ""
