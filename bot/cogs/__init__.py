"""One extension per feature; each ends with ``setup``."""
