"""The domain: what a session is, which module a person means, which sessions are upcoming."""
