"""What the schema fuzzer leaves out of a run (tests/it/fuzz.rs).

Two kinds of "invalid" request that schemathesis 4.32 generates are valid by
the time they are sent, so `negative_data_rejection` would blame the service
for accepting them:

- an unknown header: every HTTP API takes headers it does not know (browsers,
  proxies and tracing add their own);
- a request whose only invalid part is `x-org`: the run lays the company's
  real id over that header on every request.

Both cases are dropped before they are sent. Every other invalid request,
unknown body properties and malformed `x-access-revision` or `If-Match`
headers included, is still sent and must be refused.
"""

import schemathesis

# schemathesis imports its transports on first use, from whichever of its
# workers gets there first, and two workers importing them at once have
# crashed a run ("cannot import name 'ASGI_TRANSPORT'", "AST constructor
# recursion depth mismatch"). Imported here, once, before any worker starts.
import schemathesis.transport.asgi  # noqa: F401
import schemathesis.transport.requests  # noqa: F401
import schemathesis.transport.wsgi  # noqa: F401
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import CoverageScenario, negated_parameters

# Laid over every request by the run itself (`-H x-org: ...`).
REPLACED = {("x-org", ParameterLocation.HEADER)}


def _unknown_header(case) -> bool:
    data = case.meta.phase.data
    return (
        getattr(data, "scenario", None) == CoverageScenario.OBJECT_UNEXPECTED_PROPERTIES
        and getattr(data, "parameter_location", None) == ParameterLocation.HEADER
    )


@schemathesis.hook
def filter_case(context, case) -> bool:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return True
    if _unknown_header(case):
        return False
    negated = {(name.lower(), location) for name, location in negated_parameters(meta)}
    return not negated or not negated <= REPLACED
