"""Accounts: who is asking, and may they (people, access, security)."""
