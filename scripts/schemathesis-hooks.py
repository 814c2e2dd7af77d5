# Schemathesis hooks for scripts/schemathesis.sh.
#
# The server answers a scan_id it has seen before with its first answer (a device's retry).
# Schemathesis draws the same few UUIDs over and over, so nearly every scan would be a retry
# of an early one, and the answers to real badges (admit, alert, deny with a name) would
# hardly be checked. So each scan's id is derived from the rest of its body: the same scan
# sent again is a retry, as from a device; any other scan is new. Deterministic, so SEED=n
# still repeats a run.
import json
import re
import uuid

import schemathesis

NAMESPACE = uuid.UUID("5c7f6a1e-0d2b-4a59-9a57-6b1c2f0e8d41")
# Only a well-formed id is replaced: a malformed one is what a negative case tests.
WELL_FORMED = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


@schemathesis.hook
def before_call(context, case, kwargs):
    body = case.body
    if isinstance(body, dict) and WELL_FORMED.fullmatch(str(body.get("scan_id"))):
        rest = {k: v for k, v in body.items() if k != "scan_id"}
        body["scan_id"] = str(uuid.uuid5(NAMESPACE, json.dumps(rest, sort_keys=True, default=str)))
