"""Import wizards, opened from the File menu: MLflow server, SageMaker export, model card, prediction log.

Each wizard collects a request on the UI thread and runs the matching service in a job; it adds no rules.
"""
