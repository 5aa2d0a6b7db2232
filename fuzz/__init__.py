"""``make fuzz``: schemathesis against the local API, from the API's own served contract."""
