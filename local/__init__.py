"""The local runner: embedded AWS endpoint, the template's resources, the API on 127.0.0.1."""
