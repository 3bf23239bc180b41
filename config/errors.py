"""The error of a wrong setting, apart from the settings model so that whatever reports
errors can name it without loading the model."""


class ConfigError(Exception):
    """A setting or configuration file is wrong; the message says which and how to fix it."""
