"""A credit team's prediction log as teams really export it, and variants of it.

Columns ``Application_ID, Decision Date, Gender, Ethnicity, Age, Annual Income, Loan_Amount, CreditScore,
Model_Score, Model_Decision, Actual_Outcome``; decisions ``Approved/Declined``, outcomes
``Repaid/Defaulted`` (empty while not known yet), and one sensitive value spelt two ways. The frame the
file is written from is the oracle: tests state what a person reading the file would say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = (
    "Application_ID",
    "Decision Date",
    "Gender",
    "Ethnicity",
    "Age",
    "Annual Income",
    "Loan_Amount",
    "CreditScore",
    "Model_Score",
    "Model_Decision",
    "Actual_Outcome",
)
FIRST_TIME = datetime(2026, 4, 3, 7, 45, tzinfo=UTC)  # the first row's decision, as a person reads it
SECOND_TIME = datetime(2026, 4, 20, 3, 2, tzinfo=UTC)


@dataclass(frozen=True)
class TeamExport:
    path: Path
    frame: pd.DataFrame  # as written (text), the oracle
    odd_spelling: str  # the minority spelling, e.g. "female"
    usual_spelling: str  # the majority spelling, e.g. "Female"
    spelling_column: str
    unlabelled: int


def write_team_export(
    path: Path, *, dates: str = "day_first", spelling: str = "case", rows: int = 400, seed: int = 7
) -> TeamExport:
    """``dates``: "day_first" (03/04/2026 07:45), "month_first" (04/03/2026 07:45) or "epoch_ms";
    ``spelling``: "case" (Gender Female/female), "space" (Ethnicity "White "/"White"), "unicode"
    (Ethnicity "Māori" composed / decomposed)."""
    rng = np.random.default_rng(seed)
    times = [FIRST_TIME, SECOND_TIME] + [
        FIRST_TIME + timedelta(minutes=int(m)) for m in rng.integers(0, 60 * 24 * 25, rows - 2)
    ]
    gender = rng.choice(["Female", "Male"], rows, p=[0.45, 0.55]).astype(object)
    ethnicity = rng.choice(["White", "Black", "Asian", "Māori"], rows, p=[0.5, 0.2, 0.2, 0.1]).astype(object)
    age = rng.integers(19, 80, rows)
    income = np.round(rng.normal(52000, 15000, rows), 2)
    amount = rng.integers(1, 40, rows) * 500
    credit = rng.integers(420, 850, rows)
    score = np.round(1 / (1 + np.exp(-(credit - 640) / 60)), 4)
    decision = np.where(score >= 0.5, "Approved", "Declined")
    repaid = rng.random(rows) < np.clip(score + 0.1, 0, 1)
    outcome = np.where(repaid, "Repaid", "Defaulted").astype(object)
    unlabelled = 40
    outcome[-unlabelled:] = ""  # decided recently: not known yet
    if spelling == "case":
        column, usual, odd = "Gender", "Female", "female"
        picks = np.flatnonzero(gender == "Female")[1::6]
        gender[picks] = odd
    elif spelling == "space":
        column, usual, odd = "Ethnicity", "White", "White "
        picks = np.flatnonzero(ethnicity == "White")[::9]
        ethnicity[picks] = odd
    else:
        column, usual, odd = "Ethnicity", "Māori", "Ma\u0304ori"  # the same letters, decomposed
        picks = np.flatnonzero(ethnicity == "Māori")[::3]
        ethnicity[picks] = odd
    if dates == "day_first":
        written = [t.strftime("%d/%m/%Y %H:%M") for t in times]
    elif dates == "month_first":
        written = [t.strftime("%m/%d/%Y %H:%M") for t in times]
    else:
        written = [str(int(t.timestamp() * 1000)) for t in times]
    frame = pd.DataFrame(
        {
            "Application_ID": [f"APP-{100000 + i}" for i in range(rows)],
            "Decision Date": written,
            "Gender": gender,
            "Ethnicity": ethnicity,
            "Age": age,
            "Annual Income": income,
            "Loan_Amount": amount,
            "CreditScore": credit,
            "Model_Score": score,
            "Model_Decision": decision,
            "Actual_Outcome": outcome,
        },
        columns=list(COLUMNS),
    )
    frame.to_csv(path, index=False, lineterminator="\n")
    return TeamExport(path, frame, odd, usual, column, unlabelled)
