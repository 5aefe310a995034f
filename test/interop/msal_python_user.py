"""MSAL Python (Debian's python3-msal) signs a person in, or gets their token silently, from a cache file.

    msal_python_user.py login  <cache_file> <client_id> <authority> <ca_file> <username> <scope>...
        (the password on stdin) acquire_token_by_username_password, then saves the cache.
    msal_python_user.py silent <cache_file> <client_id> <authority> <ca_file> <scope>...
        get_accounts() and acquire_token_silent() for the only account; saves the cache if it changed.

Prints one JSON line: the accounts seen, the access token (or the error) and whether the cache changed.
"""
import json
import sys

import msal

command, cache_file, client_id, authority, ca_file = sys.argv[1:6]
rest = sys.argv[6:]

cache = msal.SerializableTokenCache()
try:
    with open(cache_file) as f:
        cache.deserialize(f.read())
except FileNotFoundError:
    pass
app = msal.PublicClientApplication(
    client_id,
    authority=authority,
    token_cache=cache,
    verify=ca_file,
    instance_discovery=False,
)

if command == "login":
    username, scopes = rest[0], rest[1:]
    # 1.21 builds the user realm URL from the host without its port, so on a test STS at
    # 127.0.0.1:<port> it would knock on port 443. Mark the host as one without user realm
    # discovery (what 1.21 itself does after a 404); the password grant then goes ahead as usual.
    msal.authority.Authority._domains_without_user_realm_discovery.add(app.authority.instance)
    password = sys.stdin.read().rstrip("\n")
    result = app.acquire_token_by_username_password(username, password, scopes)
    accounts = app.get_accounts()
elif command == "silent":
    scopes = rest
    accounts = app.get_accounts()
    if len(accounts) != 1:
        result = {"error": "accounts", "error_description": "%d accounts" % len(accounts)}
    else:
        result = app.acquire_token_silent_with_error(scopes, accounts[0]) or {"error": "cache_miss"}
else:
    sys.exit("unknown command " + command)

changed = cache.has_state_changed
if changed:
    with open(cache_file, "w") as f:
        f.write(cache.serialize())
print(json.dumps({
    "accounts": accounts,
    "access_token": result.get("access_token"),
    "token_source": result.get("token_source"),
    "error": result.get("error"),
    "error_description": result.get("error_description"),
    "cache_changed": changed,
}))
