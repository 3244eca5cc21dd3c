"""The `audioop` C module: built into Python 3.11/3.12, the `audioop-lts` wheel on 3.13+.

Both install under the name `audioop`; this module imports it once without the
3.11/3.12 deprecation warning so that callers need not care which one they got.
"""

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # noqa: F401  (re-exported)

__all__ = ["audioop"]
