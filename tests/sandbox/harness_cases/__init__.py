"""Assignment packages and submissions the harness tests run (see ``support.py``)."""
