"""Loaded by Python at start-up for the schemathesis runs (scripts/schemathesis.sh puts this
folder on PYTHONPATH).

hypothesis describes the lambdas in a strategy's filters by parsing their source file with
`ast`; under the recursion depth schemathesis' generator reaches, CPython 3.11's parser
sometimes raises "SystemError: AST constructor recursion depth mismatch" (a CPython bug), and
the whole run stops with a "Runtime Error" that says nothing about the server. The
description is only a name for the filter: when the parse fails, name it "<unknown>" as
hypothesis itself does when it cannot find the source.
"""

try:
    from hypothesis.internal import lambda_sources as _sources
except ImportError:  # not the schemathesis environment
    _sources = None

if _sources is not None and hasattr(_sources, "_lambda_description"):
    _describe = _sources._lambda_description

    def _lambda_description(f, *args, **kwargs):
        try:
            return _describe(f, *args, **kwargs)
        except (SystemError, RecursionError):
            return "lambda: <unknown>"

    _sources._lambda_description = _lambda_description
