"""The rule of a tenant's name (the Tenant header, the CLI's `--tenant`).

A module of its own, importing nothing: the CLI checks `--tenant` before it does anything
else, and the request middleware beside it would bring the token verifier (JWT, the identity
provider's HTTP client) into every command's start-up.
"""

from __future__ import annotations

import re

TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
