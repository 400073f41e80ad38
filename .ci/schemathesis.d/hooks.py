"""Schemathesis hooks for .ci/schemathesis (loaded through SCHEMATHESIS_HOOKS).

ROME's replaceLarge operations take a zip whose members are the table's rows, each member
read by its extension (spec `zip_members`; the emulator's `body::zip_items`). The export
describes the rows, as the JSON body would carry them; Schemathesis has no serializer for
application/zip, so this one writes the generated body as the one member `rows.json`.
"""

import io
import json
import zipfile

import schemathesis


@schemathesis.serializer("application/zip")
def zip_of_json(ctx, value):
    if value is None:
        return None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("rows.json", json.dumps(value))
    return buf.getvalue()
