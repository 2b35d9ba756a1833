"""The column-role guess of the log wizard, on names a reviewer meets in real logs."""

from signoff.importers.column_guess import guess_mapping


def test_a_typical_scored_log():
    guess = guess_mapping(
        ["request_id", "event_time", "y_true", "prediction", "score", "Sex", "race", "age", "income", "hours"]
    )
    assert guess.id == "request_id"
    assert guess.timestamp == "event_time"
    assert guess.label == "y_true"
    assert guess.prediction == "prediction"
    assert guess.scores == ("score",)
    assert guess.sensitive == ("Sex", "race", "age")
    assert guess.features == ("income", "hours")


def test_partial_names_and_probability_columns():
    guess = guess_mapping(
        ["ID", "Target Label", "predicted_class", "proba_1", "p1", "Ethnicity", "marital-status", "wage"],
        {"p1": [0.2, 0.9]},
    )
    assert guess.id == "ID"
    assert guess.label == "Target Label"
    assert guess.prediction == "predicted_class"
    assert guess.scores == ("proba_1",)
    assert guess.sensitive == ("Ethnicity", "marital-status")
    assert guess.features == ("p1", "wage")


def test_nothing_recognisable_leaves_roles_empty():
    guess = guess_mapping(["a", "b"])
    assert guess.label is None and guess.prediction is None
    assert guess.features == ("a", "b")


def test_a_zero_one_column_is_not_a_score():
    guess = guess_mapping(["label", "pred", "p"], {"p": ["0", "1", "1"]})
    assert guess.prediction == "pred"
    assert guess.scores == ()
    assert guess.features == ("p",)
