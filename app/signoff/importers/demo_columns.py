"""The demo workspace's column names, without the data: cheap to import (no pandas).

``services/demo.py`` needs them to refuse a second demo or start its progress dialog at once;
``importers/demo_data.py`` derives these columns from the UCI Adult files.
"""

FEATURES = ("age", "education_num", "capital_gain", "capital_loss", "hours_per_week", "married")
SENSITIVE = ("sex", "race", "age_group")
LABEL = "income_over_50k"
