"""HTTP plumbing that names no domain word: ASGI layers, headers, problems, languages, throttles."""
