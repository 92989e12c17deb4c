"""onestop: one-stop online government services on AWS serverless."""

__version__ = "0.1.0"
