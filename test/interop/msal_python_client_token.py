"""MSAL Python (Debian's python3-msal) asks a token cache file for a client-credential token.

Prints one JSON line: the access token MSAL Python returned and whether the cache changed.
"""
import json
import sys

import msal

cache_file, client_id, authority, ca_file, scope = sys.argv[1:6]
cache = msal.SerializableTokenCache()
with open(cache_file) as f:
    cache.deserialize(f.read())
app = msal.ConfidentialClientApplication(
    client_id,
    client_credential="not-the-secret",  # a cache hit never sends it; a request would fail loudly
    authority=authority,
    token_cache=cache,
    verify=ca_file,
    instance_discovery=False,
)
# Before 1.23, acquire_token_for_client() never read the cache; a silent call with no account did.
if tuple(int(x) for x in msal.__version__.split(".")[:2]) < (1, 23):
    result = app.acquire_token_silent([scope], account=None) or {"error": "cache_miss"}
else:
    result = app.acquire_token_for_client([scope])
print(json.dumps({"access_token": result.get("access_token"), "error": result.get("error")}))
